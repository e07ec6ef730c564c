import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { DataSource } from 'typeorm';
import type { IdentityConfig } from '../config/identity.config.js';
import { providerConfiguration } from './provider-configuration.js';

/**
 * oidc-provider sends its outgoing requests (back-channel logout, a client's jwks_uri) through the
 * configured `fetch` with a dispatcher built from the process's global undici Agent, which is npm
 * undici 8's once @rampart/platform is loaded. The configured fetch must be able to drive it.
 */
describe('the provider’s outgoing fetch', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('drives an undici 8 dispatcher, which Node’s built-in fetch cannot', async () => {
    const configuration = providerConfiguration({
      issuer: 'https://id.example.test',
      config: {
        IDENTITY_SESSION_IDLE_SECONDS: 1800,
        IDENTITY_SESSION_MAX_SECONDS: 43200,
      } as IdentityConfig,
      dataSource: {} as DataSource,
      signingKeys: [],
      cookieKeys: ['k'.repeat(32)],
    });
    const dispatcher = new Agent();
    try {
      const response = await configuration.fetch!(url, { dispatcher } as RequestInit);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('ok');
      // The control: the default (Node's fetch) fails with the very same dispatcher.
      await expect(globalThis.fetch(url, { dispatcher } as RequestInit)).rejects.toThrow(
        /fetch failed/,
      );
    } finally {
      await dispatcher.close();
    }
  });
});
