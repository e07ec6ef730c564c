export { auditService } from './audit.service.js';
