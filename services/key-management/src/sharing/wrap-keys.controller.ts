import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  AllowAccessTokens,
  CurrentPrincipal,
  parseRequest,
  type Principal,
} from '@rampart/platform';
import { registerWrapKeyRequest, userId, type WrapKeyView } from './dto/sharing.dto.js';
import { SharingService } from './sharing.service.js';
import { SHARING_SCOPE, userOf } from './sharing.scope.js';

/** `/kms/v1/wrapKeys`: users' public WRAP keys, which others wrap data keys to. */
@Controller('kms/v1/wrapKeys')
@AllowAccessTokens(SHARING_SCOPE)
export class WrapKeysController {
  constructor(private readonly sharing: SharingService) {}

  /** Registers (or replaces) the caller's own key: a user can only publish a key for themselves. */
  @Post()
  @HttpCode(200)
  register(@Body() body: unknown, @CurrentPrincipal() caller: Principal): Promise<WrapKeyView> {
    const { publicJwk } = parseRequest(registerWrapKeyRequest, body);
    return this.sharing.registerWrapKey(userOf(caller), publicJwk);
  }

  @Get(':user')
  get(@Param('user') user: string): Promise<WrapKeyView> {
    return this.sharing.wrapKey(parseRequest(userId, user));
  }
}
