import { z } from 'zod';

/**
 * Identity's token-signing keys as key-management serves them: the wire format shared by the
 * service (`GET /kms/v1/tokenSigningKeys`, `GET /kms/v1/jwks`) and the platform's client.
 */
export const TOKEN_SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
export type TokenSigningAlgorithm = (typeof TOKEN_SIGNING_ALGORITHMS)[number];

/**
 * NEXT is published before it signs anything, CURRENT signs, PREVIOUS is still published for the
 * grace period so tokens it signed keep verifying, RETIRED is gone (its private key erased).
 */
export const TOKEN_SIGNING_KEY_STATES = ['NEXT', 'CURRENT', 'PREVIOUS', 'RETIRED'] as const;
export type TokenSigningKeyState = (typeof TOKEN_SIGNING_KEY_STATES)[number];

/** The members that make up an EC, OKP or RSA public key; a published key has no others but labels. */
export const PUBLIC_JWK_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

/** A public JWK as published: never `d`, `p`, `q`, `dp`, `dq`, `qi` or `k`. */
export const publicSigningJwk = z
  .looseObject({
    kty: z.enum(['EC', 'OKP', 'RSA']),
    kid: z.string().min(1),
    alg: z.enum(TOKEN_SIGNING_ALGORITHMS),
    use: z.literal('sig'),
  })
  .refine(
    (jwk) => !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'].some((member) => member in jwk),
    'a published key must not hold private members',
  );

export const jwkSet = z.object({ keys: z.array(publicSigningJwk) });
export type JwkSet = z.infer<typeof jwkSet>;

export const deliveredSigningKey = z.object({
  kid: z.string(),
  algorithm: z.enum(TOKEN_SIGNING_ALGORITHMS),
  state: z.enum(['NEXT', 'CURRENT', 'PREVIOUS']),
  publicJwk: publicSigningJwk,
  /**
   * The private JWK as a compact JWE (ECDH-ES+A256KW, A256GCM) to the caller's workload encryption
   * key. Only for CURRENT and NEXT: nothing should sign with a PREVIOUS key.
   */
  privateJwk: z.string().optional(),
  createdAt: z.string(),
  activatedAt: z.string().optional(),
});

export const tokenSigningKeysResponse = z.object({
  keys: z.array(deliveredSigningKey),
  /** The rotation period: how long a CURRENT key signs before the scheduled rotation. */
  rotationPeriodSeconds: z.number().int().positive(),
});
export type TokenSigningKeysResponse = z.infer<typeof tokenSigningKeysResponse>;
