/**
 * Gateway quotas for end-to-end test files, passed to `startAllInOne`. A test file signs in,
 * registers clients and asks for tokens from 127.0.0.1 far more often than any one person would;
 * the production defaults have their own tests in services/gateway/src/rate-limits.
 */
export const TEST_RATE_LIMITS = {
  GATEWAY_RATE_LIMIT_DEFAULT: '100000/1m',
  GATEWAY_RATE_LIMIT_BEARER: '100000/1m',
  GATEWAY_RATE_LIMIT_SIGN_IN: '100000/1m',
  GATEWAY_RATE_LIMIT_TOKEN: '100000/1m',
  GATEWAY_RATE_LIMIT_REGISTRATION: '100000/1m',
  GATEWAY_RATE_LIMIT_RECOVERY: '100000/1m',
} as const;
