import { Body, Controller, Get, Header, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { JwkSet, TokenSigningKeysResponse } from '@rampart/contracts';
import {
  AllowAccessTokens,
  AllowWorkloads,
  CurrentPrincipal,
  describePrincipal,
  parseRequest,
  Public,
  type Principal,
} from '@rampart/platform';
import { KMS_ADMIN_SCOPE } from '../root-of-trust/root.controller.js';
import { rotateRequest, type TokenSigningKeysView } from './dto/token-signing.dto.js';
import { JWKS_MAX_AGE_SECONDS } from './token-signing.config.js';
import { TokenSigningService } from './token-signing.service.js';

/**
 * Identity's token-signing keys: the public JWK Set for everyone, the keys themselves (encrypted
 * to identity) for identity only, rotation for identity and administrators.
 */
@Controller('kms/v1')
export class TokenSigningController {
  constructor(private readonly signing: TokenSigningService) {}

  @Get('jwks')
  @Public()
  async jwks(@Res({ passthrough: true }) reply: FastifyReply): Promise<JwkSet> {
    const jwks = await this.signing.jwks();
    // Set on success only: an error answer must not be cached by relying parties or proxies.
    void reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return jwks;
  }

  @Get('tokenSigningKeys')
  @AllowWorkloads('identity')
  @Header('cache-control', 'no-store')
  deliver(@CurrentPrincipal() caller: Principal): Promise<TokenSigningKeysResponse> {
    // Workloads only (the route admits no access tokens): the id is a service name.
    return this.signing.deliver(caller.id);
  }

  /** `::` is find-my-way's escaped literal colon: the route is `/kms/v1/tokenSigningKeys:rotate`. */
  @Post('tokenSigningKeys::rotate')
  @AllowWorkloads('identity')
  @AllowAccessTokens(KMS_ADMIN_SCOPE)
  @HttpCode(200)
  rotate(
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<TokenSigningKeysView> {
    return this.signing.rotate(
      describePrincipal(caller),
      new Date(),
      parseRequest(rotateRequest, body ?? {}),
    );
  }
}
