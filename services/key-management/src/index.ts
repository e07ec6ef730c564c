export { keyManagementService } from './key-management.service.js';
