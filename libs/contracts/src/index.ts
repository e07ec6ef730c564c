export * from './services/services.js';
export * from './errors/error-codes.js';
export * from './events/envelope.js';
export * from './events/lifecycle/lifecycle.events.js';
export * from './events/key-management/key.events.js';
export * from './events/key-management/key-access.events.js';
export * from './events/key-management/shared-object.events.js';
export * from './events/catalogue.js';
