import type { OpenApiRoute } from '@rampart/platform';
import {
  createSharedObjectRequest,
  registerWrapKeyRequest,
  revokeRequest,
  sharedObjectView,
  shareRequest,
  wrapKeyView,
} from './dto/sharing.dto.js';

/** The sharing API as the OpenAPI document describes it. Every route needs the kms.share scope. */
export const sharingRoutes: OpenApiRoute[] = [
  {
    method: 'post',
    path: '/kms/v1/wrapKeys',
    operationId: 'registerWrapKey',
    summary: "Register or replace the caller's public WRAP key (ECDH P-256 JWK, never d).",
    security: 'token',
    request: registerWrapKeyRequest,
    responses: { 200: { description: 'The registered key.', schema: wrapKeyView } },
  },
  {
    method: 'get',
    path: '/kms/v1/wrapKeys/{user}',
    operationId: 'getWrapKey',
    summary: "A user's public WRAP key and its fingerprint, to wrap data keys for them.",
    security: 'token',
    responses: { 200: { description: 'The key.', schema: wrapKeyView } },
  },
  {
    method: 'post',
    path: '/kms/v1/sharedObjects',
    operationId: 'createSharedObject',
    summary: 'Store ciphertext made on the device, with the data key wrapped for each reader.',
    security: 'token',
    request: createSharedObjectRequest,
    responses: {
      201: { description: 'The object as its owner sees it.', schema: sharedObjectView },
      409: { description: 'The id is taken.' },
      413: { description: 'The ciphertext is too large.' },
    },
  },
  {
    method: 'get',
    path: '/kms/v1/sharedObjects/{id}',
    operationId: 'getSharedObject',
    summary: "The ciphertext and the caller's own wrapped key; 404 to anyone else.",
    security: 'token',
    responses: { 200: { description: 'The object.', schema: sharedObjectView } },
  },
  {
    method: 'post',
    path: '/kms/v1/sharedObjects/{id}:share',
    operationId: 'shareSharedObject',
    summary: "Owner only: add a reader with the current data key wrapped to the reader's key.",
    security: 'token',
    request: shareRequest,
    responses: {
      200: { description: 'The object.', schema: sharedObjectView },
      409: { description: 'A stale version, or the user already reads the object.' },
    },
  },
  {
    method: 'post',
    path: '/kms/v1/sharedObjects/{id}:revoke',
    operationId: 'revokeSharedObject',
    summary:
      'Owner only: remove a reader, replacing the ciphertext and every wrapped key atomically.',
    security: 'token',
    request: revokeRequest,
    responses: {
      200: { description: 'The object at its new version.', schema: sharedObjectView },
      409: { description: 'A stale version: the object changed since it was read.' },
      413: { description: 'The ciphertext is too large.' },
    },
  },
];
