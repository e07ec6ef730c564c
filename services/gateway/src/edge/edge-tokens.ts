import type { FastifyRequest } from 'fastify';
import { RESOURCE_APIS, resourceIndicator, type ResourceApi } from '@rampart/contracts';
import {
  AccessTokenVerifier,
  bearerChallenge,
  RampartError,
  remoteKeySet,
} from '@rampart/platform';

interface EdgeProtectedApi {
  readonly api: ResourceApi;
  readonly publicPaths: ReadonlySet<string>;
  readonly verifier: AccessTokenVerifier;
}

/**
 * Access tokens checked at the edge (defence in depth: each service verifies again). For each API
 * the contracts mark, a request needs an RFC 9068 access token from the trusted issuer whose
 * audience is that API's resource indicator and which carries at least one of the API's scopes;
 * which scope a route needs is the service's to decide. The issuer's JWK Set is fetched once,
 * cached, and fetched again when a token names an unknown `kid` (shared by every API's verifier).
 */
export class EdgeTokens {
  private readonly protectedApis = new Map<string, EdgeProtectedApi>();

  /** Without an issuer and JWK Set nothing is trusted: every protected request is refused. */
  constructor({ issuer, jwksUri }: { issuer?: string; jwksUri?: string }) {
    const keys = issuer && jwksUri ? remoteKeySet(jwksUri) : undefined;
    for (const api of RESOURCE_APIS) {
      if (!api.edge) continue;
      const verifier = new AccessTokenVerifier(
        issuer && jwksUri
          ? { issuer, jwksUri, audience: resourceIndicator(issuer, api) }
          : undefined,
        keys,
      );
      this.protectedApis.set(api.path, {
        api,
        publicPaths: new Set(api.edge.publicPaths),
        verifier,
      });
    }
  }

  /** Whether requests under a routed prefix need a token at the edge. */
  protects(prefix: string): boolean {
    return this.protectedApis.has(prefix);
  }

  /** Refuses (401/403 with a `WWW-Authenticate` challenge) a request the API must not see. */
  async admit(request: FastifyRequest, prefix: string): Promise<void> {
    const entry = this.protectedApis.get(prefix);
    if (!entry) return;
    // Exact, undecoded path: a variant spelling of a public path (encoded, dotted, trailing
    // slash) is not public, so it needs a token rather than slipping past.
    const path = request.url.split('?')[0] ?? '';
    if (entry.publicPaths.has(path)) return;
    const principal = await entry.verifier.authenticate(request.headers.authorization);
    if (!principal.scopes.some((scope) => entry.api.scopes.includes(scope))) {
      throw new RampartError(
        'forbidden',
        `The access token carries none of the scopes of ${entry.api.path}.`,
        {},
        { headers: bearerChallenge('insufficient_scope', entry.api.scopes) },
      );
    }
  }
}
