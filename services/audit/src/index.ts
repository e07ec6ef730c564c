export { auditService } from './audit.service.js';
export * from './transparency/merkle-tree.js';
export * from './transparency/checkpoint.js';
export * from './transparency/stored-subtrees.js';
