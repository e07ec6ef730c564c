import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { ServiceName } from '@rampart/contracts';
import { RampartError } from '../errors/rampart-error.js';
import { AccessTokenVerifier, bearerChallenge } from './access-token.js';
import {
  ACCESS_POLICY,
  ACCESS_TOKEN_POLICY,
  type AccessPolicy,
  type AccessTokenPolicy,
  type Principal,
} from './access.decorators.js';
import { WORKLOAD_ASSERTION_HEADER, WorkloadVerifier } from './workload-identity.js';

type GuardedRequest = FastifyRequest & { principal?: Principal };

/**
 * Deny by default: a route runs only if it declares who may call it. Routes without a policy are
 * refused, so forgetting the decorator fails closed rather than open. A request proves one
 * identity: a workload assertion if it carries one, otherwise a bearer access token.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly workloads: WorkloadVerifier,
    private readonly accessTokens: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(
      ACCESS_POLICY,
      targets,
    );
    const tokenPolicy = this.reflector.getAllAndOverride<AccessTokenPolicy | undefined>(
      ACCESS_TOKEN_POLICY,
      targets,
    );
    if (policy?.kind === 'public') return true;
    if (!policy && !tokenPolicy)
      throw new RampartError('forbidden', 'No access policy is declared for this route.');
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const assertion = request.headers[WORKLOAD_ASSERTION_HEADER];
    if (assertion !== undefined || !tokenPolicy) {
      request.principal = await this.admitWorkload(policy, assertion);
      return true;
    }
    request.principal = await this.admitToken(tokenPolicy, request.headers.authorization);
    return true;
  }

  private async admitWorkload(
    policy: AccessPolicy | undefined,
    assertion: string | string[] | undefined,
  ): Promise<Principal> {
    const result = await this.workloads.verify(
      typeof assertion === 'string' ? assertion : undefined,
    );
    if (!result.ok) {
      throw new RampartError('unauthenticated', 'A valid workload assertion is required.');
    }
    if (
      policy?.kind !== 'workloads' ||
      !(policy.callers as readonly string[]).includes(result.caller)
    ) {
      throw new RampartError('forbidden', `Workload ${result.caller} may not call this route.`);
    }
    return { kind: 'workload', id: result.caller as ServiceName };
  }

  private async admitToken(
    policy: AccessTokenPolicy,
    authorization: string | undefined,
  ): Promise<Principal> {
    const principal = await this.accessTokens.authenticate(authorization);
    const missing = policy.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new RampartError(
        'forbidden',
        `The access token lacks the scope ${missing.join(' ')}.`,
        {},
        {
          headers: bearerChallenge('insufficient_scope', policy.scopes),
        },
      );
    }
    return principal;
  }
}
