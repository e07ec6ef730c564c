import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AccountEvents } from '@rampart/contracts';
import { LOGGER, Outbox, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import { DataSource } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { PasswordHasher } from '../passwords/password-hasher.js';
import { OidcClients } from '../oidc/oidc-clients.js';
import { OidcProviderHost } from '../oidc/oidc-provider-host.js';
import { DEFAULT_RESOURCE_METADATA } from '../oidc/provider-configuration.js';
import { ADMIN_SCOPES } from '../oidc/resource-servers.js';

export const BOOTSTRAP_ADMIN_USERNAME = 'admin';

/** What `bootstrap.json` holds: everything an operator needs for the first minutes, once. */
export interface BootstrapCredentials {
  issuer: string;
  admin: { username: string; password: string };
  adminClient: { client_id: string; client_secret: string; scope: string };
  initialAccessToken: string;
  note: string;
}

/**
 * First start of a fresh installation (IDENTITY_BOOTSTRAP_FILE set, no accounts yet): creates the
 * administrator, an admin client (client credentials, every API scope) and an initial access token
 * for dynamic registration, and writes them once to the file (mode 0600, never overwritten). Only
 * the file's path is logged, never its contents.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly hasher: PasswordHasher,
    @Inject(OidcProviderHost) private readonly host: OidcProviderHost,
    @Inject(OidcClients) private readonly clients: OidcClients,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.IDENTITY_BOOTSTRAP_FILE || !this.host.enabled) return;
    const path = resolve(this.config.IDENTITY_BOOTSTRAP_FILE);
    // The path is the operator's own configuration, not request input.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    if (existsSync(path)) return;
    const [{ count }] = await this.dataSource.query<[{ count: string }]>(
      `SELECT count(*) AS count FROM accounts`,
    );
    if (Number(count) > 0) return;
    const credentials = await this.create();
    // `wx`: if another replica won the race, its file stands and this one fails loudly.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    this.logger.warn({ path }, 'first start: administrator credentials written (mode 0600)');
  }

  private async create(): Promise<BootstrapCredentials> {
    const issuer = this.config.RAMPART_ISSUER;
    // The client first: if its metadata were refused, no half-made installation is left behind.
    const scope = ADMIN_SCOPES.join(' ');
    const adminClient = await this.clients.register(
      {
        client_name: 'Rampart admin client',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope,
        [DEFAULT_RESOURCE_METADATA]: `${issuer}/scim/v2`,
      },
      'bootstrap',
    );
    const initialAccessToken = await this.clients.issueInitialAccessToken();
    const password = randomBytes(18).toString('base64url');
    const accountId = randomUUID();
    const passwordHash = await this.hasher.hash(password);
    await this.dataSource.transaction(async (transaction) => {
      await transaction.query(
        `INSERT INTO accounts (id, username, email, email_verified_at, password_hash, display_name)
         VALUES ($1, $2, $3, now(), $4, 'Rampart administrator')`,
        [accountId, BOOTSTRAP_ADMIN_USERNAME, 'admin@rampart.localhost', passwordHash],
      );
      await this.outbox.write(transaction, AccountEvents.registered, {
        subject: accountId,
        data: {
          accountId,
          username: BOOTSTRAP_ADMIN_USERNAME,
          emailDomain: 'rampart.localhost',
        },
      });
    });
    return {
      issuer,
      admin: { username: BOOTSTRAP_ADMIN_USERNAME, password },
      adminClient: {
        client_id: adminClient.client_id,
        client_secret: adminClient.client_secret!,
        scope,
      },
      initialAccessToken,
      note: 'Written once at first start. Sign in and change the password, store the client secret elsewhere, then delete this file.',
    };
  }
}
