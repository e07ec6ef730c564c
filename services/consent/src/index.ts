export { consentService } from './consent.service.js';
