import { z } from 'zod';
import { POSTGRES_INTEGER_MAX } from '../../database/limits.js';
import { PURPOSES, SIGNING_ALGORITHMS } from '../key-algorithms.js';

const base64 = z.base64('must be base64');
const version = z.number().int().positive().max(POSTGRES_INTEGER_MAX);

/** Names of keys callers create; `system.` and `subject-` names are the service's own. */
export const keyName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, ".", "_" and "-", at most 63');

const creatableKeyName = keyName.refine(
  (name) => !name.startsWith('system.') && !name.startsWith('subject-'),
  'names starting with "system." or "subject-" are reserved',
);

export const keyRingName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and "-", at most 63');

const recipientPublicKey = z
  .object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() })
  .loose()
  .refine((jwk) => !('d' in jwk), 'must be a public key: the private half stays with its owner')
  .describe("The recipient's public key (JWK, EC P-256)");

const DEFAULT_ALGORITHM = {
  ENCRYPT_DECRYPT: 'AES_256_GCM',
  MAC: 'HMAC_SHA256',
  WRAP: 'ECDH_ES_P256',
} as const;

export const createKeyRequest = z
  .strictObject({
    name: creatableKeyName,
    purpose: z.enum(PURPOSES),
    algorithm: z
      .enum(['AES_256_GCM', ...SIGNING_ALGORITHMS, 'HMAC_SHA256', 'ECDH_ES_P256'])
      .optional()
      .describe('Required for SIGN_VERIFY (ES256, EdDSA, PS256, RS256); implied otherwise'),
    keyRing: keyRingName
      .optional()
      .describe("Defaults to the calling service's name, or `default` for users"),
    rotationPeriodSeconds: z
      .number()
      .int()
      .min(3600)
      .max(10 * 365 * 86400)
      .optional(),
    destructionWaitingDays: z.number().int().min(1).max(30).optional(),
    publicKey: recipientPublicKey.optional().describe('WRAP keys only: the recipient public key'),
  })
  .superRefine((request, context) => {
    const expected =
      request.purpose === 'SIGN_VERIFY' ? undefined : DEFAULT_ALGORITHM[request.purpose];
    if (request.purpose === 'SIGN_VERIFY') {
      if (
        !request.algorithm ||
        !(SIGNING_ALGORITHMS as readonly string[]).includes(request.algorithm)
      )
        context.addIssue({
          code: 'custom',
          path: ['algorithm'],
          message: `SIGN_VERIFY keys need one of ${SIGNING_ALGORITHMS.join(', ')}`,
        });
    } else if (request.algorithm && request.algorithm !== expected) {
      context.addIssue({
        code: 'custom',
        path: ['algorithm'],
        message: `${request.purpose} keys use ${expected}`,
      });
    }
    if ((request.purpose === 'WRAP') !== (request.publicKey !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['publicKey'],
        message: 'WRAP keys, and only they, are created with the recipient publicKey',
      });
    }
    if (request.purpose === 'WRAP' && request.rotationPeriodSeconds !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['rotationPeriodSeconds'],
        message: 'WRAP keys are rotated by their recipient, not on a schedule',
      });
    }
  })
  .transform((request) => ({
    ...request,
    algorithm:
      request.algorithm ??
      (request.purpose === 'SIGN_VERIFY' ? 'ES256' : DEFAULT_ALGORITHM[request.purpose]),
  }));

export const updateKeyRequest = z.strictObject({
  minDecryptionVersion: version.optional(),
  rotationPeriodSeconds: z
    .number()
    .int()
    .min(3600)
    .max(10 * 365 * 86400)
    .nullable()
    .optional(),
  destructionWaitingDays: z.number().int().min(1).max(30).optional(),
});

export const listKeysQuery = z.strictObject({
  keyRing: keyRingName.default('default'),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  pageToken: keyName.optional(),
});

export const encryptRequest = z.strictObject({
  plaintext: base64,
  associatedData: base64.optional(),
});

export const decryptRequest = z.strictObject({
  ciphertext: base64,
  associatedData: base64.optional(),
});

export const MAX_BATCH_ITEMS = 1_000;
export const batchEncryptRequest = z.strictObject({
  items: z.array(encryptRequest).min(1).max(MAX_BATCH_ITEMS),
});
export const batchDecryptRequest = z.strictObject({
  items: z.array(decryptRequest).min(1).max(MAX_BATCH_ITEMS),
});

export const generateDataKeyRequest = z.strictObject({
  associatedData: base64.optional(),
});

export const rotateRequest = z.strictObject({
  publicKey: recipientPublicKey.optional().describe("WRAP keys: the recipient's new public key"),
});

export const signRequest = z.strictObject({ message: base64 });
export const verifyRequest = z.strictObject({
  message: base64,
  signature: base64,
  keyVersion: version.optional().describe('Defaults to the primary version'),
});
export const macRequest = z.strictObject({ message: base64 });
export const verifyMacRequest = z.strictObject({
  message: base64,
  mac: base64,
  keyVersion: version.optional().describe('Defaults to the primary version'),
});

export const versionRequest = z.strictObject({ version });
export const scheduleDestructionRequest = z.strictObject({
  versions: z.array(version).min(1).max(1000).optional().describe('Defaults to every live version'),
});
export const cancelDestructionRequest = z.strictObject({
  versions: z
    .array(version)
    .min(1)
    .max(1000)
    .optional()
    .describe('Defaults to every scheduled version'),
});

// No control characters: NUL separates tenant from subject when the key name is derived. The
// Cc ranges are spelled out instead of `\P{Cc}` so the pattern means the same in the OpenAPI
// document to every JSON Schema tool, including those without Unicode property escapes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const printable = /^[^\u0000-\u001f\u007f-\u009f]+$/;
const subject = {
  tenant: z.string().min(1).max(64).regex(printable, 'no control characters'),
  subject: z
    .string()
    .min(1)
    .max(256)
    .regex(printable, 'no control characters')
    .describe("The data subject's identifier within the tenant"),
};
export const subjectDataKeyRequest = z.strictObject({
  ...subject,
  associatedData: base64.optional(),
});
export const shredSubjectRequest = z.strictObject({
  ...subject,
  immediately: z
    .boolean()
    .default(false)
    .describe('Erase at once (an erasure request) instead of after the waiting period'),
});

export const dataKeyResponse = z.object({
  plaintext: z.string().describe('The data key, base64: use it, then forget it'),
  ciphertext: z.string().describe('The data key encrypted under this key: store it with the data'),
  keyVersion: z.number().int(),
});
export const subjectDataKeyResponse = dataKeyResponse.extend({
  keyName: z.string().describe("The subject's key: decrypt the data key with it"),
});

export const keyVersionView = z.object({
  version: z.number().int(),
  state: z.enum(['ENABLED', 'DISABLED', 'DESTROY_SCHEDULED', 'DESTROYED']),
  createdAt: z.string(),
  destroyAt: z.string().optional(),
  destroyedAt: z.string().optional(),
  publicKey: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('SIGN_VERIFY and WRAP keys: the public key as a JWK'),
});

export const keyView = z.object({
  name: z.string(),
  keyRing: z.string(),
  purpose: z.enum(PURPOSES),
  algorithm: z.string(),
  primaryVersion: z.number().int(),
  minDecryptionVersion: z.number().int(),
  rotationPeriodSeconds: z.number().int().nullable(),
  nextRotationAt: z.string().nullable(),
  destructionWaitingDays: z.number().int(),
  versions: z.array(keyVersionView),
});
export const keyListView = z.object({
  keys: z.array(keyView),
  nextPageToken: z.string().optional(),
});

const itemError = z.object({ error: z.object({ code: z.string(), detail: z.string() }) });
export const encryptResponse = z.object({ ciphertext: z.string(), keyVersion: z.number().int() });
export const decryptResponse = z.object({ plaintext: z.string(), keyVersion: z.number().int() });
export const batchEncryptResponse = z.object({
  results: z.array(z.union([encryptResponse, itemError])),
});
export const batchDecryptResponse = z.object({
  results: z.array(z.union([decryptResponse, itemError])),
});
export const signResponse = z.object({ signature: z.string(), keyVersion: z.number().int() });
export const macResponse = z.object({ mac: z.string(), keyVersion: z.number().int() });
export const validResponse = z.object({ valid: z.boolean(), keyVersion: z.number().int() });

export type KeyView = z.infer<typeof keyView>;
