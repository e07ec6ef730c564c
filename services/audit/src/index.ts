export { auditService } from './audit.service.js';
export { verifyChain, type ChainProblem, type VerifyResult } from './chain/chain-verifier.js';
export { entryHash, canonicalJson, GENESIS_HASH } from './chain/chain-hash.js';
export * from './transparency/merkle-tree.js';
export * from './transparency/checkpoint.js';
export * from './transparency/stored-subtrees.js';
export { appendToChain } from './chain/chain-appender.js';
export type { AuditRecord } from './chain/audit-record.js';
export { leafData, merkleStore } from './transparency/merkle-store.js';
export {
  checkpointStore,
  signCheckpointIfDue,
  type CheckpointPolicy,
  type StoredCheckpoint,
} from './checkpoints/checkpoint-store.js';
export { kmsNoteSigner } from './checkpoints/kms-note-signer.js';
export {
  verifyTree,
  type CheckpointsVerifyResult,
  type MerkleVerifyResult,
  type TreeVerifyResult,
} from './checkpoints/merkle-verifier.js';
export { exportNdjson } from './export/ndjson-export.js';
export {
  verifyExportFile,
  ExportFileError,
  type ExportFileResult,
  type FileMerkleResult,
} from './export/export-file.js';
export {
  verifyArchiveDirectory,
  archiveValid,
  fileLines,
  type ArchiveManifest,
  type ArchiveVerifyResult,
} from './export/archive-bundle.js';
