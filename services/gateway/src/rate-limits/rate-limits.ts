import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RampartError, replyWithProblem, type Logger } from '@rampart/platform';
import type { GatewayConfig } from '../config/gateway.config.js';
import { ClientAddress } from './client-address.js';
import { InMemoryRateLimitStore } from './in-memory-store.js';
import { PostgresRateLimitStore } from './postgres-store.js';
import { bucketsFor, type RateLimitBucket } from './rate-limit-policies.js';
import type { RateLimitDecision, RateLimitStore } from './rate-limit-store.js';

/** How often refusals are summed up in the log: one line per policy, not one per request. */
const REFUSAL_REPORT_INTERVAL_MS = 60_000;

export async function openRateLimitStore(
  config: GatewayConfig,
  logger: Logger,
): Promise<RateLimitStore> {
  if (config.GATEWAY_RATE_LIMIT_STORE === 'postgres') {
    return PostgresRateLimitStore.open(
      {
        url: config.GATEWAY_RATE_LIMIT_DATABASE_URL!,
        schema: config.GATEWAY_RATE_LIMIT_DATABASE_SCHEMA,
        fallbackMaxKeys: config.GATEWAY_RATE_LIMIT_MEMORY_MAX_KEYS,
        timeoutMs: config.GATEWAY_RATE_LIMIT_DATABASE_TIMEOUT_MS,
      },
      logger,
    );
  }
  if (config.RAMPART_MODE === 'production')
    logger.warn(
      'GATEWAY_RATE_LIMIT_STORE=memory: each gateway replica counts on its own, so with N replicas a client gets N times every limit',
    );
  return new InMemoryRateLimitStore(config.GATEWAY_RATE_LIMIT_MEMORY_MAX_KEYS);
}

/** `"sign-in";q=10;w=60` (draft-ietf-httpapi-ratelimit-headers). */
function policyItem(bucket: RateLimitBucket): string {
  return `"${bucket.name}";q=${bucket.policy.limit};w=${bucket.policy.windowSeconds}`;
}

/** `"sign-in";r=3;t=42`. */
function stateItem(bucket: RateLimitBucket, decision: RateLimitDecision): string {
  return `"${bucket.name}";r=${decision.remaining};t=${decision.resetSeconds}`;
}

/**
 * Rate limits at the edge (docs/architecture/security.md, "Rate limits"; ADR 0030). Before
 * anything else runs for a request, it spends from each quota that applies to it (bucketsFor);
 * the first quota that is exhausted answers 429 problem+json with `Retry-After`. Every answer
 * states the quotas it spent from in `RateLimit-Policy` and `RateLimit`.
 */
export async function registerRateLimits(
  app: NestFastifyApplication,
  config: GatewayConfig,
  logger: Logger,
): Promise<void> {
  const store = await openRateLimitStore(config, logger);
  const policies = {
    default: config.GATEWAY_RATE_LIMIT_DEFAULT,
    bearer: config.GATEWAY_RATE_LIMIT_BEARER,
    signIn: config.GATEWAY_RATE_LIMIT_SIGN_IN,
    token: config.GATEWAY_RATE_LIMIT_TOKEN,
    registration: config.GATEWAY_RATE_LIMIT_REGISTRATION,
    recovery: config.GATEWAY_RATE_LIMIT_RECOVERY,
  };
  const addresses = new ClientAddress(config.GATEWAY_TRUSTED_PROXIES);
  const refusals = new Map<string, number>();
  const reporter = setInterval(() => {
    for (const [name, count] of refusals)
      logger.warn(
        { policy: name, refused: count },
        'rate limit refused requests in the last minute',
      );
    refusals.clear();
  }, REFUSAL_REPORT_INTERVAL_MS);
  reporter.unref();

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onClose', async () => {
    clearInterval(reporter);
    await store.close();
  });
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const buckets = bucketsFor(
      {
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        client: addresses.of(request),
      },
      policies,
    );
    const spent: string[] = [];
    const states: string[] = [];
    for (const bucket of buckets) {
      const decision = await store.consume(bucket.key, 1, bucket.policy);
      spent.push(policyItem(bucket));
      states.push(stateItem(bucket, decision));
      if (decision.allowed) continue;
      refusals.set(bucket.name, (refusals.get(bucket.name) ?? 0) + 1);
      replyWithProblem(
        request,
        reply,
        new RampartError(
          'too-many-requests',
          `Too many requests: retry after ${decision.retryAfterSeconds} seconds.`,
          {},
          {
            headers: {
              'retry-after': String(decision.retryAfterSeconds),
              'ratelimit-policy': spent.join(', '),
              ratelimit: states.join(', '),
            },
          },
        ),
        logger,
      );
      return reply;
    }
    void reply.headers({ 'ratelimit-policy': spent.join(', '), ratelimit: states.join(', ') });
    return undefined;
  });
}
