import { z } from 'zod';

const base64 = z.base64('must be base64');

export const keyName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-", at most 63');

export const createKeyRequest = z.strictObject({
  name: keyName,
  purpose: z.literal('ENCRYPT_DECRYPT'),
});

export const encryptRequest = z.strictObject({
  plaintext: base64,
  associatedData: base64.optional(),
});

export const decryptRequest = z.strictObject({
  ciphertext: base64,
  associatedData: base64.optional(),
});

export const generateDataKeyRequest = z.strictObject({
  associatedData: base64.optional(),
});

export const dataKeyResponse = z.object({
  plaintext: z.string().describe('The data key, base64: use it, then forget it'),
  ciphertext: z.string().describe('The data key encrypted under this key: store it with the data'),
  keyVersion: z.number().int(),
});

export const keyVersionView = z.object({
  version: z.number().int(),
  state: z.enum(['ENABLED', 'DISABLED', 'DESTROY_SCHEDULED', 'DESTROYED']),
  createdAt: z.string(),
});

export const keyView = z.object({
  name: z.string(),
  purpose: z.literal('ENCRYPT_DECRYPT'),
  primaryVersion: z.number().int(),
  minDecryptionVersion: z.number().int(),
  versions: z.array(keyVersionView),
});

export const encryptResponse = z.object({ ciphertext: z.string(), keyVersion: z.number().int() });
export const decryptResponse = z.object({ plaintext: z.string(), keyVersion: z.number().int() });

export type KeyView = z.infer<typeof keyView>;
