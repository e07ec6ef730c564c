/**
 * Helpers for tests of anything built on the platform: a fresh database provisioned exactly as a
 * service's, and fresh workload keys. Framework-free (no Jest), so they live beside the code they
 * mirror; libs/testing holds the test servers and Jest helpers and depends on contracts only.
 */
export * from './test-database.js';
export * from './test-workload-keys.js';
export * from './test-token-issuer.js';
export * from './sample-uploads.js';
export * from './rejection.js';
