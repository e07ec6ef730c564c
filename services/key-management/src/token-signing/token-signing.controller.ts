import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JwkSet, TokenSigningKeysResponse } from '@rampart/contracts';
import { AllowWorkloads, parseRequest, Public } from '@rampart/platform';
import { rotateRequest, type TokenSigningKeysView } from './dto/token-signing.dto.js';
import { JWKS_MAX_AGE_SECONDS } from './token-signing.config.js';
import { TokenSigningService } from './token-signing.service.js';

type WorkloadRequest = FastifyRequest & { workload?: string };

/**
 * Identity's token-signing keys: the public JWK Set for everyone, the keys themselves (encrypted
 * to identity) for identity only. Administrators will rotate through access tokens once those
 * reach this service.
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
  deliver(@Req() request: WorkloadRequest): Promise<TokenSigningKeysResponse> {
    return this.signing.deliver(request.workload ?? 'unknown');
  }

  /** `::` is find-my-way's escaped literal colon: the route is `/kms/v1/tokenSigningKeys:rotate`. */
  @Post('tokenSigningKeys::rotate')
  @AllowWorkloads('identity')
  @HttpCode(200)
  rotate(@Body() body: unknown, @Req() request: WorkloadRequest): Promise<TokenSigningKeysView> {
    return this.signing.rotate(
      request.workload ?? 'unknown',
      new Date(),
      parseRequest(rotateRequest, body ?? {}),
    );
  }
}
