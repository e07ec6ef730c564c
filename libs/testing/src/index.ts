export * from './probe-events.js';
export * from './postgres.js';
export * from './kafka.js';
export * from './form-client.js';
export * from './raw-http.js';
