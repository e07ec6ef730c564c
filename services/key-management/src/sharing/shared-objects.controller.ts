import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  AllowAccessTokens,
  CurrentPrincipal,
  parseRequest,
  RampartError,
  type Principal,
} from '@rampart/platform';
import {
  createSharedObjectRequest,
  revokeRequest,
  shareRequest,
  type SharedObjectView,
} from './dto/sharing.dto.js';
import { SharingService } from './sharing.service.js';
import { SHARING_SCOPE, userOf } from './sharing.scope.js';

const objectId = z.uuid('must be a UUID');

/**
 * `/kms/v1/sharedObjects`: end-to-end encrypted objects, with Google-style custom methods
 * (`{id}:share`, `{id}:revoke`). Every byte that crosses here was encrypted on a user's device.
 */
@Controller('kms/v1/sharedObjects')
@AllowAccessTokens(SHARING_SCOPE)
export class SharedObjectsController {
  constructor(private readonly sharing: SharingService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @CurrentPrincipal() caller: Principal): Promise<SharedObjectView> {
    const input = parseRequest(createSharedObjectRequest, body);
    return this.sharing.create(userOf(caller), {
      ...input,
      ciphertext: Buffer.from(input.ciphertext, 'base64'),
    });
  }

  @Get(':id')
  get(@Param('id') id: string, @CurrentPrincipal() caller: Principal): Promise<SharedObjectView> {
    return this.sharing.read(userOf(caller), parseRequest(objectId, id));
  }

  /** `POST /kms/v1/sharedObjects/{id}:{method}`: the method follows the last colon. */
  @Post(':resource')
  @HttpCode(200)
  custom(
    @Param('resource') resource: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<SharedObjectView> {
    const separator = resource.lastIndexOf(':');
    const id = parseRequest(objectId, separator > 0 ? resource.slice(0, separator) : resource);
    const method = separator > 0 ? resource.slice(separator + 1) : '';
    switch (method) {
      case 'share':
        return this.sharing.share(userOf(caller), id, parseRequest(shareRequest, body));
      case 'revoke': {
        const input = parseRequest(revokeRequest, body);
        return this.sharing.revoke(userOf(caller), id, {
          ...input,
          ciphertext: Buffer.from(input.ciphertext, 'base64'),
        });
      }
      default:
        throw new RampartError('not-found', `Shared objects have no method "${method}".`);
    }
  }
}
