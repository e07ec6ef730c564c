import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { RampartError } from '../errors/rampart-error.js';

/**
 * Access tokens from identity (RFC 9068 JWT profile) presented as `Authorization: Bearer`.
 * Verified against the issuer's JWK Set; the keys are fetched once and refreshed when a token
 * names an unknown `kid` (jose's remote key set does both, with a cooldown against floods).
 */
const ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'];
const MAX_CLOCK_SKEW_SECONDS = 5;
const VERIFIED_CACHE_LIMIT = 10_000;
const MAX_IDENTIFIER_LENGTH = 1024;

export interface AccessTokenSettings {
  issuer: string;
  jwksUri: string;
  audience: string;
}

/** The access-token settings of a service's configuration, if it trusts an issuer. */
export function accessTokenSettings(
  service: string,
  config: {
    ACCESS_TOKEN_ISSUER?: string;
    ACCESS_TOKEN_JWKS_URI?: string;
    ACCESS_TOKEN_AUDIENCE?: string;
  },
): AccessTokenSettings | undefined {
  if (!config.ACCESS_TOKEN_ISSUER || !config.ACCESS_TOKEN_JWKS_URI) return undefined;
  return {
    issuer: config.ACCESS_TOKEN_ISSUER,
    jwksUri: config.ACCESS_TOKEN_JWKS_URI,
    audience: config.ACCESS_TOKEN_AUDIENCE ?? `urn:rampart:${service}`,
  };
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 token68 syntax), if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer ([\w.~+/-]+=*)$/.exec(authorization ?? '')?.[1];
}

/** The RFC 6750 `WWW-Authenticate` challenge of a refusal: none, a bad token, a missing scope. */
export function bearerChallenge(
  error?: 'invalid_token' | 'insufficient_scope',
  scopes?: readonly string[],
): Record<string, string> {
  const parameters = [
    ...(error ? [`error="${error}"`] : []),
    ...(scopes ? [`scope="${scopes.join(' ')}"`] : []),
  ];
  return { 'www-authenticate': ['Bearer', parameters.join(', ')].filter(Boolean).join(' ') };
}

/** The issuer's JWK Set, fetched on first use and again when a token names an unknown `kid`. */
export function remoteKeySet(jwksUri: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUri));
}

export interface UserPrincipal {
  kind: 'user';
  /** The token's `sub`. */
  id: string;
  scopes: readonly string[];
  clientId?: string;
}

export type AccessTokenVerification =
  { ok: true; principal: UserPrincipal } | { ok: false; reason: 'unconfigured' | 'invalid' };

export class AccessTokenVerifier {
  private readonly keys: JWTVerifyGetKey | undefined;
  /** Tokens already verified, until they expire: a client reuses one token for many calls. */
  private readonly verified = new Map<string, { principal: UserPrincipal; expiresAt: number }>();

  /**
   * Without settings no issuer is trusted and every token is refused. Verifiers for several
   * audiences of one issuer (the gateway has one per API) pass one key set, so they share its
   * cache and its refreshes.
   */
  constructor(
    private readonly settings: AccessTokenSettings | undefined,
    keys?: JWTVerifyGetKey,
  ) {
    this.keys = settings ? (keys ?? remoteKeySet(settings.jwksUri)) : undefined;
  }

  /**
   * The principal of an `Authorization: Bearer` header, or a 401 with the RFC 6750 challenge:
   * no token, or one that does not verify. Which scopes are enough is the caller's decision.
   */
  async authenticate(authorization: string | undefined): Promise<UserPrincipal> {
    const token = bearerToken(authorization);
    if (!token) {
      throw new RampartError(
        'unauthenticated',
        'A bearer access token is required.',
        {},
        {
          headers: bearerChallenge(),
        },
      );
    }
    const result = await this.verify(token);
    if (!result.ok) {
      throw new RampartError(
        'unauthenticated',
        'The access token is not valid.',
        {},
        {
          headers: bearerChallenge('invalid_token'),
        },
      );
    }
    return result.principal;
  }

  async verify(token: string): Promise<AccessTokenVerification> {
    if (!this.settings || !this.keys) return { ok: false, reason: 'unconfigured' };
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAt) return { ok: true, principal: known.principal };
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: ALGORITHMS,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: 'at+jwt',
        clockTolerance: MAX_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      // A sender-constrained token (DPoP, RFC 9449; mTLS, RFC 8705) is good only with a proof of
      // possession, which these APIs do not check: presented as a bearer token, it is refused,
      // or whoever copied it could use it.
      if (payload['cnf'] !== undefined) return { ok: false, reason: 'invalid' };
      // Identifiers are recorded in audit events: an absurdly long one is not a real token.
      const clientId = payload['client_id'];
      if (!payload.sub || payload.sub.length > MAX_IDENTIFIER_LENGTH)
        return { ok: false, reason: 'invalid' };
      if (typeof clientId === 'string' && clientId.length > MAX_IDENTIFIER_LENGTH)
        return { ok: false, reason: 'invalid' };
      const principal: UserPrincipal = {
        kind: 'user',
        id: payload.sub ?? '',
        scopes:
          typeof payload['scope'] === 'string' ? payload['scope'].split(' ').filter(Boolean) : [],
        ...(typeof payload['client_id'] === 'string' ? { clientId: payload['client_id'] } : {}),
      };
      this.remember(token, principal, ((payload.exp ?? 0) + MAX_CLOCK_SKEW_SECONDS) * 1000);
      return { ok: true, principal };
    } catch {
      return { ok: false, reason: 'invalid' };
    }
  }

  private remember(token: string, principal: UserPrincipal, expiresAt: number): void {
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) {
      const now = Date.now();
      for (const [known, entry] of this.verified)
        if (entry.expiresAt <= now) this.verified.delete(known);
      if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    }
    this.verified.set(token, { principal, expiresAt });
  }
}
