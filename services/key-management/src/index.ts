export { keyManagementService } from './key-management.service.js';
export { KeyPolicies } from './policies/key-policies.service.js';
export { KeyAccess } from './policies/key-access.js';
export { KeyAuditTrail } from './audit/key-audit-trail.js';
