import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { POSTGRES_INTEGER_MAX } from '../../database/limits.js';

/** Sizes the service accepts; larger content belongs in object storage, encrypted the same way. */
export const MAX_CIPHERTEXT_BYTES = 512 * 1024;
export const MAX_READERS = 64;

/** A user as access tokens name them (`sub`): no slashes or spaces, so it fits a URL segment. */
export const userId = z
  .string()
  .regex(/^[\w.@:|+-]{1,255}$/, 'letters, digits and . _ @ : | + -, at most 255');

const coordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url');

/**
 * A recipient's public WRAP key: ECDH on P-256. A private member is refused outright (a client
 * about to leak its private key must hear so, not have it silently dropped), and the point must
 * lie on the curve (an invalid-curve point would let a sender probe the recipient's key).
 */
export const publicWrapJwk = z
  .object({
    kty: z.literal('EC', 'a WRAP key is an EC key'),
    crv: z.literal('P-256', 'a WRAP key uses the P-256 curve'),
    x: coordinate,
    y: coordinate,
    d: z.never('a private key: register the public half only, never d').optional(),
  })
  .transform(({ kty, crv, x, y }) => ({ kty, crv, x, y }))
  .refine(
    (jwk) => {
      try {
        createPublicKey({ key: jwk, format: 'jwk' });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a point on P-256' },
  );

export type PublicWrapJwk = z.output<typeof publicWrapJwk>;

/** Five base64url segments; the header is checked further once the recipient's key is known. */
export const compactJwe = z
  .string()
  .max(2048, 'a wrapped data key is far shorter')
  .regex(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/, 'must be a compact JWE');

const base64 = z.base64('must be base64');

export const wrappedKey = z.strictObject({ recipient: userId, jwe: compactJwe });

const wrappedKeys = z
  .array(wrappedKey)
  .min(1)
  .max(MAX_READERS, `at most ${MAX_READERS} readers`)
  .refine((keys) => new Set(keys.map((key) => key.recipient)).size === keys.length, {
    message: 'one wrapped key per recipient',
  });

export const registerWrapKeyRequest = z.strictObject({ publicJwk: publicWrapJwk });

export const createSharedObjectRequest = z.strictObject({
  id: z.uuid().describe('Chosen by the client: it is bound into the ciphertext as associated data'),
  ciphertext: base64,
  wrappedKeys: wrappedKeys.describe('The data key for each reader; must include the owner'),
});

const objectVersion = z.number().int().positive().max(POSTGRES_INTEGER_MAX);

export const shareRequest = z.strictObject({
  version: objectVersion.describe('The object version whose data key is wrapped'),
  recipient: userId,
  jwe: compactJwe,
});

export const revokeRequest = z.strictObject({
  version: objectVersion.describe('The version the new ciphertext replaces'),
  recipient: userId,
  ciphertext: base64.describe('The content re-encrypted under a new data key'),
  wrappedKeys: wrappedKeys.describe('The new data key for every remaining reader, owner included'),
});

export const wrapKeyView = z.object({
  user: z.string(),
  publicJwk: z.object({ kty: z.string(), crv: z.string(), x: z.string(), y: z.string() }),
  fingerprint: z.string().describe('RFC 7638 SHA-256 thumbprint: compare it out of band'),
  updateTime: z.string(),
});

export const sharedObjectView = z.object({
  id: z.string(),
  owner: z.string(),
  version: z.number().int(),
  ciphertext: z.string(),
  wrappedKey: wrappedKey.describe("The caller's own wrapped data key, and no one else's"),
  recipients: z.array(z.string()).optional().describe('Every reader; shown to the owner only'),
  updateTime: z.string(),
});

export type WrapKeyView = z.infer<typeof wrapKeyView>;
export type SharedObjectView = z.infer<typeof sharedObjectView>;
export type WrappedKey = z.infer<typeof wrappedKey>;
