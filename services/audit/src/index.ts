export { auditService } from './audit.service.js';
export { verifyChain, type ChainProblem, type VerifyResult } from './chain/chain-verifier.js';
export { entryHash, canonicalJson, GENESIS_HASH } from './chain/chain-hash.js';
export * from './transparency/merkle-tree.js';
export * from './transparency/checkpoint.js';
export * from './transparency/stored-subtrees.js';
