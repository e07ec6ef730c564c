import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors } from 'oidc-provider';
import {
  createOidcStorageFixture,
  type OidcStorageFixture,
} from '../testing/oidc-storage-fixture.js';
import { postgresAdapterFactory } from './postgres-adapter.js';

const API = 'https://reports.example/api';
const CLIENT = { id: 'reporting-job', secret: randomBytes(32).toString('base64url') };
const APP = { id: 'web-app', secret: randomBytes(32).toString('base64url') };

/**
 * The adapter under a real oidc-provider, spoken to over HTTP: a client credentials grant stores
 * its token through the adapter, introspection finds it there, revocation deletes it; a rotated
 * refresh token is consumed, and its reuse revokes the whole grant.
 */
describe('PostgresAdapter under oidc-provider (over HTTP)', () => {
  let storage: OidcStorageFixture;
  let server: Server;
  let issuer: string;
  let provider: Provider;

  beforeAll(async () => {
    storage = await createOidcStorageFixture();
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    });
    provider = new Provider(issuer, {
      adapter: postgresAdapterFactory(storage.dataSource),
      clients: [
        {
          client_id: CLIENT.id,
          client_secret: CLIENT.secret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
        {
          client_id: APP.id,
          client_secret: APP.secret,
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: ['https://app.example/callback'],
          response_types: ['code'],
        },
      ],
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
      rotateRefreshToken: true,
      jwks: { keys: [{ ...signingKey, kid: 'test', use: 'sig' }] },
      ttl: {
        AccessToken: 600,
        ClientCredentials: 600,
        Grant: 3600,
        IdToken: 600,
        RefreshToken: 3600,
      },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: {
          enabled: true,
          allowedPolicy: (_ctx, client, token) =>
            Promise.resolve(client.clientId === token.clientId),
        },
        revocation: {
          enabled: true,
          allowedPolicy: (_ctx, client, token) =>
            Promise.resolve(client.clientId === token.clientId),
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => Promise.resolve(API),
          getResourceServerInfo: (_ctx, resource) => {
            if (![API].includes(resource)) throw new errors.InvalidTarget();
            // Opaque, so the token lives in the database rather than in its own signature.
            return Promise.resolve({ scope: 'reports:read', accessTokenFormat: 'opaque' });
          },
        },
      },
    });
    const handle = provider.callback();
    server.on('request', (request, response) => void handle(request, response));
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await storage?.close();
  });

  const post = async (
    path: string,
    form: Record<string, string>,
    client: { id: string; secret: string } = CLIENT,
  ) => {
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
    const response = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    const text = await response.text(); // revocation answers 200 with no body
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  };
  const introspect = (token: string) => post('/token/introspection', { token });

  it('issues a client credentials token stored through the adapter, and finds it again', async () => {
    const issued = await post('/token', {
      grant_type: 'client_credentials',
      scope: 'reports:read',
    });
    expect(issued).toMatchObject({
      status: 200,
      body: { token_type: 'Bearer', scope: 'reports:read', expires_in: expect.any(Number) },
    });
    const accessToken = issued.body['access_token'] as string;

    const rows = await storage.rows('model = $1', ['ClientCredentials']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: accessToken,
      payload: { kind: 'ClientCredentials', clientId: CLIENT.id, aud: API, scope: 'reports:read' },
      consumed_at: null,
    });
    // The row expires with the token (ttl 600 s), by the database's clock.
    const lifetime = (rows[0]!.expires_at!.getTime() - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(590);
    expect(lifetime).toBeLessThanOrEqual(601);

    expect(await introspect(accessToken)).toMatchObject({
      status: 200,
      body: { active: true, client_id: CLIENT.id, aud: API, scope: 'reports:read' },
    });
  });

  it('revocation deletes the row, and the token is no longer active', async () => {
    const issued = await post('/token', { grant_type: 'client_credentials', resource: API });
    const accessToken = issued.body['access_token'] as string;
    expect(await storage.rows('id = $1', [accessToken])).toHaveLength(1);

    expect((await post('/token/revocation', { token: accessToken })).status).toBe(200);
    expect(await storage.rows('id = $1', [accessToken])).toHaveLength(0);
    expect(await introspect(accessToken)).toMatchObject({ status: 200, body: { active: false } });
  });

  it('a token whose row expired is inactive, whatever its payload says', async () => {
    const issued = await post('/token', { grant_type: 'client_credentials' });
    const accessToken = issued.body['access_token'] as string;
    expect((await introspect(accessToken)).body['active']).toBe(true);
    await storage.dataSource.query(
      `UPDATE oidc_models SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [accessToken],
    );
    expect(await introspect(accessToken)).toMatchObject({ status: 200, body: { active: false } });
  });

  it('an unknown resource is refused and stores nothing', async () => {
    const before = await storage.rows();
    const refused = await post('/token', {
      grant_type: 'client_credentials',
      resource: 'https://elsewhere.example/',
    });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(await storage.rows()).toEqual(before);
  });

  it('rotating a refresh token consumes it, and its reuse revokes every token of the grant', async () => {
    // The grant and first refresh token as an authorization code exchange leaves them, saved
    // through the provider's own models (so through the adapter).
    const grant = new provider.Grant({ accountId: 'alice', clientId: APP.id });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const client = await provider.Client.find(APP.id);
    const first = await new provider.RefreshToken({
      client: client!,
      accountId: 'alice',
      grantId,
      gty: 'authorization_code',
      scope: 'openid offline_access',
    }).save();
    const refresh = (token: string) =>
      post('/token', { grant_type: 'refresh_token', refresh_token: token }, APP);

    const rotated = await refresh(first);
    expect(rotated.status).toBe(200);
    const second = rotated.body['refresh_token'] as string;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    const [used] = await storage.rows('model = $1 AND id = $2', ['RefreshToken', first]);
    expect(used!.consumed_at).toBeInstanceOf(Date);
    // The grant's tokens: the used and the new refresh token, the access tokens issued with them.
    const members = await storage.rows('grant_id = $1', [grantId]);
    expect(members.map((row) => [row.model, row.id === first || row.id === second])).toEqual([
      ['AccessToken', false],
      ['RefreshToken', true],
      ['RefreshToken', true],
    ]);

    // Reuse: the provider sees `consumed` through find and revokes the grant.
    expect(await refresh(first)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await storage.rows('grant_id = $1', [grantId])).toEqual([]);
    expect(await storage.rows('model = $1 AND id = $2', ['Grant', grantId])).toEqual([]);
    expect(await refresh(second)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
