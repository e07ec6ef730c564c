import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AllowAccessTokens, CurrentPrincipal, type Principal } from '@rampart/platform';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimUsersService } from './scim-users.service.js';
import {
  etagMatches,
  etagOf,
  listResponse,
  project,
  readListQuery,
  readProjection,
} from './scim.resource.js';

/** The scope an access token needs for every SCIM route. */
export const SCIM_SCOPE = 'scim';

/** What the Users and Groups services have in common, as the controllers use it. */
interface ScimResources {
  get(id: string, projection?: ReturnType<typeof readProjection>): Promise<Resource>;
  list(query: ReturnType<typeof readListQuery>): Promise<{ total: number; resources: Resource[] }>;
  create(body: unknown, principal: Principal): Promise<Resource>;
  replace(id: string, body: unknown, ifMatch: string | undefined, p: Principal): Promise<Resource>;
  patch(id: string, body: unknown, ifMatch: string | undefined, p: Principal): Promise<Resource>;
  delete(id: string, ifMatch: string | undefined, p: Principal): Promise<void>;
}

type Resource = Record<string, unknown> & { meta: { version: string; location: string } };

/** The version number in a resource's `W/"<n>"`. */
function versionOf(resource: Resource): number {
  return Number(/\d+/.exec(resource.meta.version)![0]);
}

/**
 * The HTTP side of one SCIM resource type (RFC 7644 section 3): ETags on every resource
 * response, `If-None-Match` on GET (304), `If-Match` on writes (412 when stale), `Location`
 * on create.
 */
abstract class ScimResourceController {
  constructor(private readonly resources: ScimResources) {}

  @Get()
  async list(@Query() query: Record<string, unknown>) {
    const parsed = readListQuery(query);
    const { total, resources } = await this.resources.list(parsed);
    return listResponse(
      resources.map((resource) => project(resource, parsed.projection)),
      total,
      parsed.startIndex,
    );
  }

  @Get(':id')
  async get(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const projection = readProjection(query);
    const resource = await this.resources.get(id, projection);
    void reply.header('etag', resource.meta.version);
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, versionOf(resource))) {
      void reply.status(304);
      return undefined;
    }
    return project(resource, projection);
  }

  @Post()
  @HttpCode(201)
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const resource = await this.resources.create(body, principal);
    void reply
      .header('etag', etagOf(versionOf(resource)))
      .header('location', resource.meta.location);
    return resource;
  }

  @Put(':id')
  async replace(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const resource = await this.resources.replace(id, body, ifMatch, principal);
    void reply.header('etag', resource.meta.version);
    return resource;
  }

  @Patch(':id')
  async patch(
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const resource = await this.resources.patch(id, body, ifMatch, principal);
    void reply.header('etag', resource.meta.version);
    return resource;
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.resources.delete(id, ifMatch, principal);
  }
}

@Controller('scim/v2/Users')
@AllowAccessTokens(SCIM_SCOPE)
export class ScimUsersController extends ScimResourceController {
  constructor(users: ScimUsersService) {
    super(users);
  }
}

@Controller('scim/v2/Groups')
@AllowAccessTokens(SCIM_SCOPE)
export class ScimGroupsController extends ScimResourceController {
  constructor(groups: ScimGroupsService) {
    super(groups);
  }
}
