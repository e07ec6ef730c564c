/** Helpers that need Jest's globals, apart so plain Node programs (benchmarks) can load the rest. */
export * from './kafka-availability.js';
