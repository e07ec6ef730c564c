import type { OpenApiRoute } from '@rampart/platform';
import {
  checkpointView,
  consistencyQuery,
  consistencyView,
  inclusionQuery,
  inclusionView,
} from './dto/proofs.dto.js';

export const proofRoutes: OpenApiRoute[] = [
  {
    method: 'get',
    path: '/audit/v1/checkpoints/latest',
    operationId: 'latestCheckpoint',
    summary:
      "The latest signed checkpoint of the audit log's Merkle tree: the signed note, its parts and the log's verifier key (audit:read).",
    security: 'token',
    responses: {
      200: { description: 'The checkpoint.', schema: checkpointView },
      404: { description: 'No checkpoint has been signed yet.' },
    },
  },
  {
    method: 'get',
    path: '/audit/v1/proofs/inclusion',
    operationId: 'inclusionProof',
    summary:
      'RFC 9162 inclusion proof of a record (query: sequence, treeSize) in the tree of a checkpoint (audit:read).',
    security: 'token',
    query: inclusionQuery,
    responses: {
      200: { description: 'The proof and the leaf hash.', schema: inclusionView },
      400: { description: 'Bad parameters, or a tree size the log has not reached.' },
    },
  },
  {
    method: 'get',
    path: '/audit/v1/proofs/consistency',
    operationId: 'consistencyProof',
    summary:
      'RFC 9162 consistency proof between two tree sizes (query: from, to), as two checkpoints name them (audit:read).',
    security: 'token',
    query: consistencyQuery,
    responses: {
      200: { description: 'The proof.', schema: consistencyView },
      400: { description: 'Bad parameters, or a tree size the log has not reached.' },
    },
  },
];
