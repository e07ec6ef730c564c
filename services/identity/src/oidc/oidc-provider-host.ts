import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import Provider from 'oidc-provider';
import {
  encryptionKeyFileName,
  LOGGER,
  Outbox,
  SERVICE_CONFIG,
  TokenSigningKeys,
  WorkloadSigner,
  type Logger,
} from '@rampart/platform';
import { DataSource } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { providerConfiguration, type ProviderPages } from './provider-configuration.js';
import { recordProviderEvents } from './provider-events.js';
import { SigningKeyChanges } from './signing-key-changes.js';

/** Optional: the pages the provider renders itself, supplied by the pages module when present. */
export const PROVIDER_PAGES = Symbol('rampart.identity.provider-pages');

/** Paths handed to oidc-provider as they are; everything else stays with Nest. */
const PROVIDER_PATHS = ['/oidc/*', '/.well-known/*'];

/** Koa middleware run by the provider around its own routes (`provider.use`). */
export type ProviderMiddleware = Parameters<Provider['use']>[0];

/** The provider's `jwks_uri`, answered from key-management's public set (see `build`). */
const JWKS_PATH = '/oidc/jwks';

/**
 * How long relying parties may cache the JWK Set: key-management's own `max-age` for the same set,
 * whose NEXT and PREVIOUS periods are bounded to outlast it.
 */
const JWKS_MAX_AGE_SECONDS = 300;

interface Mounted {
  provider: Provider;
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>;
}

/**
 * Owns the oidc-provider instance. Its keystore is fixed at construction, so when key-management
 * rotates the token-signing keys a new instance is built on the same storage and swapped in:
 * requests in flight finish on the old one, new ones start on the new one, and tokens signed
 * before the rotation keep verifying because the JWK Set still publishes the previous key
 * (ADR 0017).
 */
@Injectable()
export class OidcProviderHost implements OnModuleInit, OnApplicationShutdown {
  readonly issuer: string;
  private mounted: Mounted | undefined;
  private signingKeys: TokenSigningKeys | undefined;
  private keyChanges: SigningKeyChanges | undefined;
  /** The refresh in flight, and whether another was asked for meanwhile. */
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private readonly cookieKeys: string[];
  private readonly middlewares: ProviderMiddleware[] = [];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly signer: WorkloadSigner,
    private readonly http: HttpAdapterHost,
    @Optional() @Inject(PROVIDER_PAGES) private readonly pages?: Partial<ProviderPages>,
  ) {
    this.issuer = config.RAMPART_ISSUER;
    // Development without a configured secret: cookies last as long as this process.
    this.cookieKeys = [config.IDENTITY_COOKIE_SECRET ?? randomBytes(32).toString('base64url')];
  }

  /** Whether the provider runs (it needs key-management for its signing keys). */
  get enabled(): boolean {
    return this.config.IDENTITY_KMS_URL !== undefined;
  }

  /** The provider now serving requests. */
  get provider(): Provider {
    if (!this.mounted)
      throw new Error('the OpenID provider is not running (IDENTITY_KMS_URL unset)');
    return this.mounted.provider;
  }

  /**
   * The signed-in person of the provider's session cookie on this request, if any. A session idle
   * too long is not found (its row expired); one signed in longer ago than the absolute timeout is
   * refused here too, whatever its row says.
   */
  async signedInAccount(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<{ accountId: string; sessionUid: string } | undefined> {
    const provider = this.provider;
    const ctx = provider.createContext(request, response);
    const session = await provider.Session.get(ctx);
    const now = Math.floor(Date.now() / 1000);
    const withinMaximum =
      session.loginTs !== undefined &&
      session.loginTs + this.config.IDENTITY_SESSION_MAX_SECONDS > now;
    return session.accountId && withinMaximum
      ? { accountId: session.accountId, sessionUid: session.uid }
      : undefined;
  }

  /**
   * Adds a middleware to the provider now serving and to every provider built after a key
   * rotation, in the order added (after the provider's own cookie setup, around its routes).
   */
  use(middleware: ProviderMiddleware): void {
    this.middlewares.push(middleware);
    this.mounted?.provider.use(middleware);
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.IDENTITY_KMS_URL) {
      this.logger.warn('IDENTITY_KMS_URL is unset: the OpenID provider is not mounted');
      return;
    }
    this.signingKeys = await TokenSigningKeys.start({
      kmsUrl: this.config.IDENTITY_KMS_URL,
      signer: this.signer,
      encryptionKeyFile:
        this.config.WORKLOAD_ENCRYPTION_KEY_FILE ??
        join(dirname(this.config.WORKLOAD_KEY_FILE), encryptionKeyFileName('identity')),
      retainPrivateJwks: true,
      onKeysChanged: () => this.rebuild('signing keys changed'),
      onRefreshError: (error) =>
        this.logger.warn({ err: error }, 'token-signing keys could not be refreshed'),
    });
    this.mounted = this.build();
    // A rotation is announced by event: refresh at once rather than at the next poll.
    this.keyChanges = new SigningKeyChanges({
      databaseUrl: this.config.DATABASE_URL,
      logger: this.logger,
      onChange: () => this.refreshSigningKeys(),
    });
    await this.keyChanges.start();
    const fastify = this.http.httpAdapter.getInstance<FastifyInstance>();
    for (const url of PROVIDER_PATHS) {
      fastify.route({
        method: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'],
        url,
        // Before Fastify reads the body: the provider parses its own requests.
        onRequest: async (request, reply) => {
          reply.hijack();
          await this.dispatch(request.raw, reply.raw);
        },
        handler: () => undefined,
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.signingKeys?.stop();
    await this.keyChanges?.stop();
  }

  /** Fetches the signing keys now, one fetch at a time; a burst of requests makes one more. */
  private refreshSigningKeys(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.signingKeys!.refresh()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'token-signing keys could not be refreshed'),
      )
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refreshSigningKeys();
        }
      });
  }

  /** Runs a raw request through the current provider, its URLs always derived from the issuer. */
  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const issuer = new URL(this.issuer);
    // Identity is reached only through the gateway: the issuer, not the hop, names the host.
    request.headers.host = issuer.host;
    request.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
    await this.mounted!.handle(request, response);
  }

  private build(): Mounted {
    const provider = new Provider(
      this.issuer,
      providerConfiguration({
        issuer: this.issuer,
        config: this.config,
        dataSource: this.dataSource,
        signingKeys: this.signingKeys!.privateJwks(),
        cookieKeys: this.cookieKeys,
        ...(this.pages ? { pages: this.pages } : {}),
      }),
    );
    // Behind the gateway: the client address comes from X-Forwarded-For (one hop).
    provider.proxy = true;
    // The gateway appends the address it saw; anything to its left came from the caller.
    provider.maxIpsCount = 1;
    provider.use(async (ctx, next) => {
      // Cookies are Secure even when the issuer is http://localhost (browsers treat localhost as
      // a secure context); Koa would otherwise refuse to set them on a plain-HTTP request.
      ctx.cookies.secure = true;
      // The provider sets its session cookie through a second Cookies instance (ctx.oidc.cookies)
      // that copies `ctx.secure`, not the flag above: answer `true` for this request's context.
      Object.defineProperty(ctx, 'secure', { value: true });
      // oidc-provider publishes only the keys it holds privately (CURRENT and NEXT); relying
      // parties also need PREVIOUS, which still verifies tokens signed before the last rotation.
      if (ctx.path === JWKS_PATH && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        ctx.body = this.signingKeys!.jwks();
        ctx.type = 'application/jwk-set+json; charset=utf-8';
        ctx.set('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
        return;
      }
      await next();
    });
    for (const middleware of this.middlewares) provider.use(middleware);
    recordProviderEvents(provider, {
      dataSource: this.dataSource,
      outbox: this.outbox,
      logger: this.logger,
    });
    return { provider, handle: provider.callback() };
  }

  private rebuild(reason: string): void {
    try {
      this.mounted = this.build();
      this.logger.info({ reason }, 'OpenID provider rebuilt');
    } catch (error) {
      this.logger.error(
        { err: error, reason },
        'OpenID provider could not be rebuilt; the previous one keeps serving',
      );
    }
  }
}
