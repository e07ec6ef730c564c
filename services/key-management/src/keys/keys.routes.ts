import type { OpenApiRoute } from '@rampart/platform';
import {
  createKeyRequest,
  dataKeyResponse,
  generateDataKeyRequest,
  decryptRequest,
  decryptResponse,
  encryptRequest,
  encryptResponse,
  keyView,
} from './dto/keys.dto.js';

/** The keys API as the OpenAPI document describes it, from the schemas the controller parses with. */
export const keyManagementRoutes: OpenApiRoute[] = [
  {
    method: 'post',
    path: '/kms/v1/keys',
    operationId: 'createKey',
    summary: 'Create a key with its first version.',
    security: 'workload',
    request: createKeyRequest,
    responses: {
      201: { description: 'The key.', schema: keyView },
      409: { description: 'The name is taken.' },
    },
  },
  {
    method: 'get',
    path: '/kms/v1/keys/{name}',
    operationId: 'getKey',
    summary: 'A key, its primary version and the state of every version (never material).',
    security: 'workload',
    responses: { 200: { description: 'The key.', schema: keyView } },
  },
  {
    method: 'post',
    path: '/kms/v1/keys/{name}:encrypt',
    operationId: 'encrypt',
    summary: 'Encrypt with the primary version, binding the associated data.',
    security: 'workload',
    request: encryptRequest,
    responses: {
      200: { description: 'Ciphertext naming its key and version.', schema: encryptResponse },
    },
  },
  {
    method: 'post',
    path: '/kms/v1/keys/{name}:decrypt',
    operationId: 'decrypt',
    summary: 'Decrypt with the version the ciphertext names; the associated data must match.',
    security: 'workload',
    request: decryptRequest,
    responses: { 200: { description: 'The plaintext.', schema: decryptResponse } },
  },
  {
    method: 'post',
    path: '/kms/v1/keys/{name}:rewrap',
    operationId: 'rewrap',
    summary: 'Re-encrypt under the primary version; the plaintext never leaves the service.',
    security: 'workload',
    request: decryptRequest,
    responses: { 200: { description: 'The new ciphertext.', schema: encryptResponse } },
  },
  {
    method: 'post',
    path: '/kms/v1/keys/{name}:generateDataKey',
    operationId: 'generateDataKey',
    summary: 'A fresh 256-bit data key, in plaintext and encrypted under this key.',
    security: 'workload',
    request: generateDataKeyRequest,
    responses: { 200: { description: 'The data key.', schema: dataKeyResponse } },
  },
  {
    method: 'post',
    path: '/kms/v1/keys/{name}:rotate',
    operationId: 'rotate',
    summary: 'Make a new version primary; older versions keep decrypting.',
    security: 'workload',
    responses: { 200: { description: 'The key.', schema: keyView } },
  },
];
