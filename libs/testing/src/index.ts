export * from './database.js';
export * from './kafka-availability.js';
export * from './workload-keys.js';
export * from './probe-events.js';
export * from './postgres.js';
export * from './kafka.js';
