import { z } from 'zod';
import type { OpenApiRoute } from '@rampart/platform';
import {
  batchDecryptRequest,
  batchDecryptResponse,
  batchEncryptRequest,
  batchEncryptResponse,
  cancelDestructionRequest,
  createKeyRequest,
  dataKeyResponse,
  decryptRequest,
  decryptResponse,
  encryptRequest,
  encryptResponse,
  generateDataKeyRequest,
  keyListView,
  keyName,
  listKeysQuery,
  keyView,
  macRequest,
  macResponse,
  rotateRequest,
  scheduleDestructionRequest,
  shredSubjectRequest,
  signRequest,
  signResponse,
  subjectDataKeyRequest,
  subjectDataKeyResponse,
  updateKeyRequest,
  validResponse,
  verifyMacRequest,
  verifyRequest,
  versionRequest,
} from './dto/keys.dto.js';

/** A subject that never had a key: nothing to destroy, and erasing it again is not an error. */
const noSubjectKey = z
  .strictObject({ name: z.string(), versions: z.array(z.unknown()).max(0) })
  .describe('The subject had no key');

/** `POST /kms/v1/keys/{name}:{method}`, answering 200 with `response`. */
function customMethod(
  method: string,
  summary: string,
  request: z.ZodType | undefined,
  response: z.ZodType,
): OpenApiRoute {
  return {
    method: 'post',
    path: `/kms/v1/keys/{name}:${method}`,
    operationId: method,
    summary,
    security: 'workload-or-token',
    ...(request ? { request } : {}),
    responses: { 200: { description: 'Done.', schema: response } },
  };
}

/** The keys API as the OpenAPI document describes it, from the schemas the controllers parse with. */
const routes: OpenApiRoute[] = [
  {
    method: 'post',
    path: '/kms/v1/keys',
    operationId: 'createKey',
    summary: 'Create a key with its first version (name, purpose, and for signing an algorithm).',
    security: 'workload-or-token',
    request: createKeyRequest,
    responses: {
      201: { description: 'The key.', schema: keyView },
      409: { description: 'The name is taken.' },
    },
  },
  {
    method: 'get',
    path: '/kms/v1/keys',
    operationId: 'listKeys',
    summary: 'Keys of a key ring (query: keyRing, pageSize, pageToken).',
    security: 'workload-or-token',
    query: listKeysQuery,
    responses: { 200: { description: 'A page of keys.', schema: keyListView } },
  },
  {
    method: 'get',
    path: '/kms/v1/keys/{name}',
    operationId: 'getKey',
    summary: 'A key, its settings and every version with its state and public key (never secrets).',
    security: 'workload-or-token',
    responses: { 200: { description: 'The key.', schema: keyView } },
  },
  {
    method: 'patch',
    path: '/kms/v1/keys/{name}',
    operationId: 'updateKey',
    summary:
      'Change the minimum decryption version, rotation period or destruction waiting period.',
    security: 'workload-or-token',
    request: updateKeyRequest,
    responses: { 200: { description: 'The key.', schema: keyView } },
  },
  customMethod(
    'encrypt',
    'Encrypt up to 64 KiB with the primary version, binding the associated data. 413 beyond.',
    encryptRequest,
    encryptResponse,
  ),
  customMethod(
    'decrypt',
    'Decrypt with the version the ciphertext names; the associated data must match.',
    decryptRequest,
    decryptResponse,
  ),
  customMethod(
    'rewrap',
    'Re-encrypt under the primary version; the plaintext never leaves the service.',
    decryptRequest,
    encryptResponse,
  ),
  customMethod(
    'batchEncrypt',
    'Encrypt up to 1000 items; each result is a ciphertext or that item’s error.',
    batchEncryptRequest,
    batchEncryptResponse,
  ),
  customMethod(
    'batchDecrypt',
    'Decrypt up to 1000 items; each result is a plaintext or that item’s error.',
    batchDecryptRequest,
    batchDecryptResponse,
  ),
  customMethod(
    'batchRewrap',
    'Rewrap up to 1000 items to the primary version.',
    batchDecryptRequest,
    batchEncryptResponse,
  ),
  customMethod(
    'generateDataKey',
    'A fresh 256-bit data key, in plaintext and encrypted under this key.',
    generateDataKeyRequest,
    dataKeyResponse,
  ),
  customMethod(
    'sign',
    'Sign a message (up to 64 KiB) with the primary version. ECDSA signatures are JOSE-encoded (r||s).',
    signRequest,
    signResponse,
  ),
  customMethod('verify', 'Verify a signature.', verifyRequest, validResponse),
  customMethod(
    'mac',
    'HMAC-SHA256 of a message with the primary version.',
    macRequest,
    macResponse,
  ),
  customMethod('verifyMac', 'Check a MAC in constant time.', verifyMacRequest, validResponse),
  customMethod(
    'rotate',
    'Make a new version primary; older versions keep decrypting. WRAP keys take the new publicKey.',
    rotateRequest,
    keyView,
  ),
  customMethod(
    'disableVersion',
    'Disable a version: it refuses every operation.',
    versionRequest,
    keyView,
  ),
  customMethod('enableVersion', 'Enable a disabled version again.', versionRequest, keyView),
  customMethod(
    'scheduleDestruction',
    'Schedule versions (default: all) for destruction after the waiting period (default 7 days).',
    scheduleDestructionRequest,
    keyView,
  ),
  customMethod(
    'cancelDestruction',
    'Cancel a scheduled destruction; versions return to their former state.',
    cancelDestructionRequest,
    keyView,
  ),
  {
    method: 'post',
    path: '/kms/v1/subjects:generateDataKey',
    operationId: 'generateSubjectDataKey',
    summary: "A data key under the (tenant, subject)'s own key, created on first use.",
    security: 'workload-or-token',
    request: subjectDataKeyRequest,
    responses: { 200: { description: 'The data key.', schema: subjectDataKeyResponse } },
  },
  {
    method: 'post',
    path: '/kms/v1/subjects:shred',
    operationId: 'shredSubject',
    summary:
      "Destroy the subject's key after the waiting period, or at once (immediately: an erasure request).",
    security: 'workload-or-token',
    request: shredSubjectRequest,
    responses: {
      200: {
        description: 'The key after the change, or only its name when the subject never had one.',
        schema: z.union([keyView, noSubjectKey]),
      },
    },
  },
];

/** A key's name in the path is checked like any key name: fuzzing then reaches the key's handler. */
const keyPath = z.object({ name: keyName });

export const keyManagementRoutes: OpenApiRoute[] = routes.map((route) =>
  route.path.includes('{name}') ? { ...route, params: keyPath } : route,
);
