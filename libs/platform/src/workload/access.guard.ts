import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { RampartError } from '../errors/rampart-error.js';
import { ACCESS_POLICY, type AccessPolicy } from './access.decorators.js';
import { WORKLOAD_ASSERTION_HEADER, WorkloadVerifier } from './workload-identity.js';

/**
 * Deny by default: a route runs only if it declares who may call it. Routes without a policy are
 * refused, so forgetting the decorator fails closed rather than open.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: WorkloadVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!policy)
      throw new RampartError('forbidden', 'No access policy is declared for this route.');
    if (policy.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { workload?: string }>();
    const header = request.headers[WORKLOAD_ASSERTION_HEADER];
    const result = await this.verifier.verify(typeof header === 'string' ? header : undefined);
    if (!result.ok) {
      throw new RampartError('unauthenticated', 'A valid workload assertion is required.', {}, {});
    }
    if (!(policy.callers as readonly string[]).includes(result.caller)) {
      throw new RampartError('forbidden', `Workload ${result.caller} may not call this route.`);
    }
    request.workload = result.caller;
    return true;
  }
}
