export { authorizationService } from './authorization.service.js';
