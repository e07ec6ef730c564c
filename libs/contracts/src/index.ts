export * from './services/services.js';
export * from './errors/error-codes.js';
export * from './data-protection/data-categories.js';
export * from './events/envelope.js';
export * from './events/lifecycle/lifecycle.events.js';
export * from './events/key-management/key.events.js';
export * from './events/catalogue.js';
