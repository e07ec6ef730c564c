/**
 * The least environment the identity configuration loads with, for tests of configuration rules.
 * It includes what production mode requires besides the rule under test (key-management's URL,
 * the cookie secret), so a test of one rule is not failed by another.
 */
export const CONFIG_TEST_ENV = {
  PORT: '0',
  WORKLOAD_KEY_FILE: '/nonexistent/identity.jwk',
  WORKLOAD_TRUST_DIR: '/nonexistent',
  DATABASE_URL: 'postgres://localhost/identity',
  IDENTITY_KMS_URL: 'https://key-management.internal',
  IDENTITY_COOKIE_SECRET: 'a-test-cookie-secret-of-at-least-32-characters',
} as const;
