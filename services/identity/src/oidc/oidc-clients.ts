import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ClientMetadata } from 'oidc-provider';
import { OidcClientEvents } from '@rampart/contracts';
import { Outbox } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { OidcProviderHost } from './oidc-provider-host.js';
import { postgresAdapterFactory } from './postgres-adapter.js';
import { STANDARD_REGISTRATION_POLICY } from './provider-configuration.js';

/** Client authentication methods that need no shared secret. */
const PUBLIC_KEY_OR_NO_SECRET = new Set(['none', 'private_key_jwt']);

export interface RegisteredClient {
  client_id: string;
  /** Present for confidential clients; shown once, to whoever registered the client. */
  client_secret?: string;
}

/**
 * Clients Rampart registers itself (the bootstrap admin client, later an admin API), and the
 * initial access tokens that gate dynamic registration. Metadata goes through the provider's own
 * validation, so such a client is held to exactly the rules of a dynamically registered one.
 */
@Injectable()
export class OidcClients {
  constructor(
    @Inject(OidcProviderHost) private readonly host: OidcProviderHost,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async register(
    metadata: Omit<ClientMetadata, 'client_id'> & { client_id?: string },
    via: 'bootstrap' | 'admin',
    context: { ip: string } = { ip: 'internal' },
  ): Promise<RegisteredClient> {
    const provider = this.host.provider;
    const complete: ClientMetadata = {
      ...metadata,
      client_id: metadata.client_id ?? randomUUID(),
      client_id_issued_at: Math.floor(Date.now() / 1000),
    };
    const authMethod = complete.token_endpoint_auth_method ?? 'client_secret_basic';
    if (!PUBLIC_KEY_OR_NO_SECRET.has(authMethod) && !complete.client_secret) {
      complete.client_secret = randomBytes(32).toString('base64url');
    }
    await provider.Client.validate(complete);
    await this.dataSource.transaction(async (transaction) => {
      await postgresAdapterFactory(this.dataSource)('Client').upsert(
        complete.client_id,
        complete,
        undefined,
      );
      await this.outbox.write(transaction, OidcClientEvents.registered, {
        subject: complete.client_id,
        data: {
          clientId: complete.client_id,
          via,
          grantTypes: [...(complete.grant_types ?? ['authorization_code'])],
          tokenEndpointAuthMethod: authMethod,
          ip: context.ip,
        },
      });
    });
    return {
      client_id: complete.client_id,
      ...(complete.client_secret ? { client_secret: complete.client_secret } : {}),
    };
  }

  /**
   * An initial access token for RFC 7591 registration. It never expires by itself; registered
   * clients are held to the standard policy (people's sign-in scopes only).
   */
  async issueInitialAccessToken(): Promise<string> {
    const token = new this.host.provider.InitialAccessToken({
      policies: [STANDARD_REGISTRATION_POLICY],
    });
    return token.save();
  }
}
