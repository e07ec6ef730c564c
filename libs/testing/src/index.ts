export * from './kafka-availability.js';
export * from './probe-events.js';
export * from './postgres.js';
export * from './kafka.js';
