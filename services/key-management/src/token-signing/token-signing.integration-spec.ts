import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  compactDecrypt,
  createRemoteJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
} from 'jose';
import type { DataSource } from 'typeorm';
import { freePort } from '@rampart/testing';
import {
  loadWorkloadDecryptionKey,
  startService,
  TokenSigningKeys,
  WORKLOAD_ASSERTION_HEADER,
  type RunningService,
  type WorkloadSigner,
} from '@rampart/platform';
import { createTestDatabase } from '@rampart/platform/testing-support';
import { keyManagementService } from '../key-management.service.js';
import { RootKey } from '../root-of-trust/root-key.js';
import {
  createKmsFixture,
  startKms,
  type KmsFixture,
  type KmsHarness,
} from '../testing/kms-harness.js';
import { tokenSigningKeyBinding } from './signing-key-material.js';
import { TokenSigningService } from './token-signing.service.js';

const TOPIC = 'rampart.key-management.token-signing-key.v1';
const DAY_MS = 24 * 60 * 60 * 1_000;
/** JWK members that only a private key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

interface KeyRow {
  kid: string;
  algorithm: string;
  state: string;
  activated_at: Date | null;
  deactivated_at: Date | null;
  wrapped_private_jwk: Buffer | null;
}

interface EventRow {
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

async function keyRows(dataSource: DataSource): Promise<KeyRow[]> {
  return dataSource.query<KeyRow[]>(
    `SELECT kid, algorithm, state, activated_at, deactivated_at, wrapped_private_jwk
       FROM token_signing_keys
      ORDER BY created_at, array_position(ARRAY['RETIRED', 'PREVIOUS', 'CURRENT', 'NEXT'], state), kid`,
  );
}

async function events(dataSource: DataSource): Promise<EventRow[]> {
  const rows = await dataSource.query<{ payload: string }[]>(
    `SELECT payload FROM outbox WHERE topic = $1 ORDER BY id`,
    [TOPIC],
  );
  return rows.map((row) => JSON.parse(row.payload) as EventRow);
}

const kidIn = (rows: KeyRow[], state: string) => rows.find((row) => row.state === state)?.kid;

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('token-signing keys (real PostgreSQL, through HTTP)', () => {
  let kms: KmsHarness;
  let service: RunningService;
  let identity: WorkloadSigner;
  let signing: TokenSigningService;
  let client: TokenSigningKeys | undefined;

  /** Anonymous unless `as` (a workload) or `token` says who calls. */
  const call = (
    method: 'GET' | 'POST',
    path: string,
    options: { as?: 'identity' | 'audit'; token?: string; body?: unknown } = {},
  ) =>
    kms.call(
      method,
      path,
      options.body,
      options.as
        ? { workload: options.as }
        : options.token
          ? { token: options.token }
          : 'anonymous',
    );

  const jwks = async () => (await call('GET', '/kms/v1/jwks')).body['keys'] as JWK[];

  beforeAll(async () => {
    // The scheduler's timer stays out of the way here: these tests drive maintenance themselves.
    kms = await startKms({ KMS_SCHEDULER_INTERVAL_SECONDS: '3600' });
    service = kms.service;
    signing = service.app.get(TokenSigningService);
    identity = kms.signer('identity');
  });

  afterAll(async () => {
    client?.stop();
    await kms?.stop();
  });

  it('starts with a CURRENT and a NEXT key, both in the public JWK Set', async () => {
    const rows = await keyRows(service.dataSource!);
    expect(rows.map((row) => [row.state, row.algorithm])).toEqual([
      ['CURRENT', 'ES256'],
      ['NEXT', 'ES256'],
    ]);
    const response = await call('GET', '/kms/v1/jwks');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.body['keys']).toEqual([
      expect.objectContaining({ kid: kidIn(rows, 'CURRENT'), alg: 'ES256', use: 'sig', kty: 'EC' }),
      expect.objectContaining({ kid: kidIn(rows, 'NEXT'), alg: 'ES256', use: 'sig', kty: 'EC' }),
    ]);
    expect((await events(service.dataSource!)).map((event) => [event.type, event.data])).toEqual(
      rows.map((row) => [
        'rampart.key-management.token-signing-key.created',
        { kid: row.kid, algorithm: 'ES256', state: row.state, trigger: 'bootstrap' },
      ]),
    );
  });

  it('rotates on demand: NEXT signs, CURRENT stays published as PREVIOUS, a new NEXT appears', async () => {
    const before = await keyRows(service.dataSource!);
    const seen = (await events(service.dataSource!)).length;
    const rotated = await call('POST', '/kms/v1/tokenSigningKeys:rotate', { as: 'identity' });
    expect(rotated.status).toBe(200);
    const after = await keyRows(service.dataSource!);
    expect(kidIn(after, 'PREVIOUS')).toBe(kidIn(before, 'CURRENT'));
    expect(kidIn(after, 'CURRENT')).toBe(kidIn(before, 'NEXT'));
    const fresh = kidIn(after, 'NEXT')!;
    expect(before.map((row) => row.kid)).not.toContain(fresh);
    expect((rotated.body['keys'] as { kid: string; state: string }[]).map((k) => k.state)).toEqual([
      'PREVIOUS',
      'CURRENT',
      'NEXT',
    ]);
    expect((await jwks()).map((key) => key.kid)).toEqual([
      kidIn(after, 'CURRENT'),
      fresh,
      kidIn(after, 'PREVIOUS'),
    ]);
    const written = (await events(service.dataSource!)).slice(seen);
    expect(written.map((event) => [event.type, event.subject, event.data])).toEqual([
      [
        'rampart.key-management.token-signing-key.deactivated',
        kidIn(before, 'CURRENT'),
        expect.objectContaining({
          state: 'PREVIOUS',
          trigger: 'on-demand',
          caller: 'workload:identity',
        }),
      ],
      [
        'rampart.key-management.token-signing-key.activated',
        kidIn(before, 'NEXT'),
        expect.objectContaining({
          state: 'CURRENT',
          trigger: 'on-demand',
          caller: 'workload:identity',
        }),
      ],
      [
        'rampart.key-management.token-signing-key.created',
        fresh,
        expect.objectContaining({
          state: 'NEXT',
          trigger: 'on-demand',
          caller: 'workload:identity',
        }),
      ],
    ]);
  });

  it('retires PREVIOUS keys after the grace period and rotates once the rotation period is over', async () => {
    const start = await keyRows(service.dataSource!);
    const previous = start.find((row) => row.state === 'PREVIOUS')!;
    const current = start.find((row) => row.state === 'CURRENT')!;
    const seen = (await events(service.dataSource!)).length;

    // Within the grace period and the rotation period: nothing to do.
    const graceEnds = previous.deactivated_at!.getTime() + DAY_MS;
    expect(await signing.maintain(new Date(graceEnds - 1_000), { wait: false })).toBe(true);
    expect(await keyRows(service.dataSource!)).toEqual(start);

    // The grace period is over: the key leaves the JWK Set and its private key is erased.
    await signing.maintain(new Date(graceEnds), { wait: false });
    const retired = (await keyRows(service.dataSource!)).find((row) => row.kid === previous.kid)!;
    expect(retired).toMatchObject({ state: 'RETIRED', wrapped_private_jwk: null });
    expect((await jwks()).map((key) => key.kid)).not.toContain(previous.kid);

    // Thirty days after activation (the default period), the schedule rotates.
    await signing.maintain(new Date(current.activated_at!.getTime() + 30 * DAY_MS), {
      wait: false,
    });
    const rotated = await keyRows(service.dataSource!);
    expect(kidIn(rotated, 'PREVIOUS')).toBe(current.kid);
    expect(kidIn(rotated, 'CURRENT')).toBe(kidIn(start, 'NEXT'));
    expect(
      (await events(service.dataSource!))
        .slice(seen)
        .map((event) => [event.type.split('.').pop(), event.subject, event.data['trigger']]),
    ).toEqual([
      ['retired', previous.kid, 'schedule'],
      ['deactivated', current.kid, 'schedule'],
      ['activated', kidIn(start, 'NEXT'), 'schedule'],
      ['created', kidIn(rotated, 'NEXT'), 'schedule'],
    ]);
  });

  it('delivers keys that identity decrypts and signs with; tokens verify against the JWK Set', async () => {
    client = await TokenSigningKeys.start({
      kmsUrl: service.url,
      signer: identity,
      encryptionKeyFile: kms.keys.encryptionKeyFile('identity'),
    });
    const rows = await keyRows(service.dataSource!);
    expect(client.current().kid).toBe(kidIn(rows, 'CURRENT'));
    expect(client.next()?.kid).toBe(kidIn(rows, 'NEXT'));
    expect(client.current().key.extractable).toBe(false);
    // What identity's jwks_uri serves is exactly key-management's JWK Set.
    expect(client.jwks()).toEqual({ keys: await jwks() });

    const jwksUri = new URL('/kms/v1/jwks', service.url);
    const token = await client.sign(
      { sub: 'alice', iss: 'https://rampart.test', exp: Math.floor(Date.now() / 1000) + 300 },
      { typ: 'at+jwt' },
    );
    const verified = await jwtVerify(token, createRemoteJWKSet(jwksUri), {
      issuer: 'https://rampart.test',
      typ: 'at+jwt',
    });
    expect(verified).toMatchObject({
      payload: { sub: 'alice' },
      protectedHeader: { alg: 'ES256', kid: kidIn(rows, 'CURRENT') },
    });

    // After a rotation identity signs with the new key; the old token still verifies.
    await call('POST', '/kms/v1/tokenSigningKeys:rotate', { as: 'identity' });
    await client.refresh();
    const rotated = await keyRows(service.dataSource!);
    expect(client.current().kid).toBe(kidIn(rotated, 'CURRENT'));
    const newer = await client.sign({ sub: 'bob' });
    const keySet = createRemoteJWKSet(jwksUri);
    expect((await jwtVerify(newer, keySet)).protectedHeader.kid).toBe(kidIn(rotated, 'CURRENT'));
    expect((await jwtVerify(token, keySet)).payload.sub).toBe('alice');
  });

  it.each(['EdDSA', 'RS256', 'PS256'] as const)(
    'signs with %s once a key of that algorithm rotates in',
    async (algorithm) => {
      // The requested algorithm applies to the new NEXT key; a second rotation makes it CURRENT.
      for (let i = 0; i < 2; i += 1) {
        const rotated = await call('POST', '/kms/v1/tokenSigningKeys:rotate', {
          as: 'identity',
          body: { algorithm },
        });
        expect(rotated.status).toBe(200);
      }
      await client!.refresh();
      expect(client!.current().alg).toBe(algorithm);
      const token = await client!.sign({ sub: 'carol' });
      const { protectedHeader } = await jwtVerify(
        token,
        createRemoteJWKSet(new URL('/kms/v1/jwks', service.url)),
      );
      expect(protectedHeader).toMatchObject({ alg: algorithm, kid: client!.current().kid });
    },
  );

  it('retires a compromised CURRENT key, and the NEXT delivered with it, at once', async () => {
    await client!.refresh();
    const compromised = client!.current().kid;
    const deliveredWithIt = client!.next()!.kid;
    const token = await client!.sign({ sub: 'dave' });
    const seen = (await events(service.dataSource!)).length;
    const rotated = await call('POST', '/kms/v1/tokenSigningKeys:rotate', {
      as: 'identity',
      body: { retireCurrent: true },
    });
    expect(rotated.status).toBe(200);
    const rows = await keyRows(service.dataSource!);
    expect(rows.find((row) => row.kid === compromised)).toMatchObject({
      state: 'RETIRED',
      wrapped_private_jwk: null,
    });
    expect(rows.find((row) => row.kid === deliveredWithIt)).toMatchObject({
      state: 'RETIRED',
      wrapped_private_jwk: null,
    });
    expect((await jwks()).map((key) => key.kid)).not.toContain(compromised);
    expect((await jwks()).map((key) => key.kid)).not.toContain(deliveredWithIt);
    await expect(
      jwtVerify(token, createRemoteJWKSet(new URL('/kms/v1/jwks', service.url))),
    ).rejects.toThrow(/no applicable key/);
    expect(
      (await events(service.dataSource!))
        .slice(seen)
        .map((event) => [event.type.split('.').pop(), event.data['state']]),
    ).toEqual([
      ['retired', 'RETIRED'],
      ['retired', 'RETIRED'],
      ['created', 'CURRENT'],
      ['created', 'NEXT'],
    ]);
  });

  it('identity refuses a delivery whose private key is not the one published under its kid, and stale keys', async () => {
    // A real HTTP hop between identity and key-management that can swap keys or go down.
    let mode: 'swap' | 'down' | 'pass' = 'swap';
    const proxy = createServer((request, response) => {
      void (async () => {
        if (mode === 'down') {
          response.writeHead(503).end();
          return;
        }
        const upstream = await fetch(`${service.url}${request.url}`, {
          headers: {
            [WORKLOAD_ASSERTION_HEADER]: String(request.headers[WORKLOAD_ASSERTION_HEADER]),
          },
        });
        const body = (await upstream.json()) as { keys: { state: string; privateJwk?: string }[] };
        if (mode === 'swap') {
          const current = body.keys.find((key) => key.state === 'CURRENT')!;
          const next = body.keys.find((key) => key.state === 'NEXT')!;
          [current.privateJwk, next.privateJwk] = [next.privateJwk, current.privateJwk];
        }
        response.writeHead(upstream.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const options = {
      kmsUrl: proxyUrl,
      signer: identity,
      encryptionKeyFile: kms.keys.encryptionKeyFile('identity'),
    };
    try {
      await expect(TokenSigningKeys.start(options)).rejects.toThrow(/does not match its kid/);

      mode = 'pass';
      const stale = await TokenSigningKeys.start({ ...options, maxStaleMs: 300 });
      try {
        expect(stale.current().kid).toBe(kidIn(await keyRows(service.dataSource!), 'CURRENT'));
        mode = 'down';
        await expect(stale.refresh()).rejects.toThrow(/answered 503/);
        expect(stale.current().kid).toBeDefined(); // the last keys stay in use for a while
        await sleep(400);
        expect(() => stale.current()).toThrow(/stale/);
        await expect(stale.sign({ sub: 'mallory' })).rejects.toThrow(/stale/);
      } finally {
        stale.stop();
      }
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('serves the keys to identity alone, encrypted to its own encryption key', async () => {
    expect(await call('GET', '/kms/v1/tokenSigningKeys', { as: 'audit' })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect((await call('GET', '/kms/v1/tokenSigningKeys')).status).toBe(401);
    const before = await keyRows(service.dataSource!);
    expect((await call('POST', '/kms/v1/tokenSigningKeys:rotate', { as: 'audit' })).status).toBe(
      403,
    );
    expect((await call('POST', '/kms/v1/tokenSigningKeys:rotate')).status).toBe(401);
    expect(
      await call('POST', '/kms/v1/tokenSigningKeys:rotate', {
        as: 'identity',
        body: { algorithm: 'HS256' },
      }),
    ).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
    expect(await keyRows(service.dataSource!)).toEqual(before);

    const delivered = await call('GET', '/kms/v1/tokenSigningKeys', { as: 'identity' });
    expect(delivered.status).toBe(200);
    expect(delivered.headers.get('cache-control')).toBe('no-store');
    const keys = delivered.body['keys'] as { state: string; privateJwk?: string }[];
    expect(keys.map((key) => [key.state, typeof key.privateJwk])).toEqual(
      keys.map((key) => [key.state, key.state === 'PREVIOUS' ? 'undefined' : 'string']),
    );
    const jwe = keys.find((key) => key.state === 'CURRENT')!.privateJwk!;
    const identityKey = await loadWorkloadDecryptionKey(kms.keys.encryptionKeyFile('identity'));
    expect(decodeProtectedHeader(jwe)).toEqual({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid: identityKey.kid,
      cty: 'jwk+json',
      epk: expect.anything(),
    });
    const auditKey = await loadWorkloadDecryptionKey(kms.keys.encryptionKeyFile('audit'));
    await expect(compactDecrypt(jwe, auditKey.key)).rejects.toThrow();
  });

  it('lets an administrator with the kms.admin scope rotate, and no one else with a token', async () => {
    const audience = 'urn:rampart:key-management';
    const admin = await kms.issuer.mint({ sub: 'alice', scope: 'kms.admin', audience });
    const user = await kms.issuer.mint({ sub: 'bob', scope: 'openid profile', audience });
    const before = await keyRows(service.dataSource!);
    expect(await call('POST', '/kms/v1/tokenSigningKeys:rotate', { token: user })).toMatchObject({
      status: 403,
    });
    // Delivery is for identity's workload alone, whatever the token grants.
    expect((await call('GET', '/kms/v1/tokenSigningKeys', { token: admin })).status).toBe(401);
    expect(await keyRows(service.dataSource!)).toEqual(before);

    const seen = (await events(service.dataSource!)).length;
    const rotated = await call('POST', '/kms/v1/tokenSigningKeys:rotate', { token: admin });
    expect(rotated.status).toBe(200);
    expect(kidIn(await keyRows(service.dataSource!), 'CURRENT')).toBe(kidIn(before, 'NEXT'));
    const written = (await events(service.dataSource!)).slice(seen);
    expect(written.map((event) => event.data['caller'])).toEqual([
      'user:alice',
      'user:alice',
      'user:alice',
    ]);
  });

  it('keeps private keys out of the JWK Set, the events and the database (wrapped, bound to the kid)', async () => {
    const root = await RootKey.fromFile(kms.rootKeyFile!);
    const unwrap = (wrapped: Buffer, kid: string) =>
      root.unwrap(wrapped, tokenSigningKeyBinding(kid));
    const rows = (await keyRows(service.dataSource!)).filter((row) => row.wrapped_private_jwk);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const secrets: string[] = [];
    for (const row of rows) {
      const privateJwk = JSON.parse(
        (await unwrap(row.wrapped_private_jwk!, row.kid)).toString(),
      ) as JWK;
      expect(privateJwk).toMatchObject({ kid: row.kid, alg: row.algorithm });
      secrets.push(privateJwk.d!, Buffer.from(privateJwk.d!, 'base64url').toString('hex'));
      // Bound to its kid: the same bytes under another key's row do not unwrap.
      const other = rows.find((candidate) => candidate.kid !== row.kid)!;
      await expect(unwrap(row.wrapped_private_jwk!, other.kid)).rejects.toThrow();
    }

    const dump = [
      (await call('GET', '/kms/v1/jwks')).text,
      (await call('GET', '/kms/v1/tokenSigningKeys', { as: 'identity' })).text,
      (await call('GET', '/kms/openapi.json')).text,
      JSON.stringify(await events(service.dataSource!)),
      JSON.stringify(
        await service.dataSource!.query(
          `SELECT kid, public_jwk::text, encode(wrapped_private_jwk, 'hex') AS wrapped FROM token_signing_keys`,
        ),
      ),
    ].join('\n');
    for (const secret of secrets) expect(dump).not.toContain(secret);
    for (const key of await jwks()) {
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
    }
    for (const event of await events(service.dataSource!)) {
      for (const field of Object.keys(event.data)) {
        expect(['kid', 'algorithm', 'state', 'trigger', 'caller']).toContain(field);
      }
    }
  });

  it('answers 400 naming the missing encryption key when identity has none', async () => {
    const trustDir = await mkdtemp(join(tmpdir(), 'rampart-trust-'));
    for (const file of ['identity.pub.jwk', 'key-management.pub.jwk']) {
      await writeFile(join(trustDir, file), await readFile(join(kms.keys.trustDir, file)));
    }
    const other = await createTestDatabase('key_management');
    const bare = await startService(keyManagementService, {
      env: {
        ...kms.env,
        DATABASE_URL: other.url,
        DATABASE_SCHEMA: other.schema,
        WORKLOAD_TRUST_DIR: trustDir,
      },
    });
    try {
      const response = await fetch(`${bare.url}/kms/v1/tokenSigningKeys`, {
        headers: { [WORKLOAD_ASSERTION_HEADER]: await identity.assertionFor('key-management') },
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'failed-precondition',
        detail: expect.stringContaining('identity.enc.pub.jwk'),
      });
    } finally {
      await bare.stop();
      await other.drop();
    }
  });
});

describe('identity tokens signed with delivered keys (the loop closed)', () => {
  it("admits an access token identity signed, verified through key-management's own JWK Set", async () => {
    const setup = await createKmsFixture();
    // Key-management trusts the issuer whose jwks_uri is its own JWK Set: exactly what services
    // will do once identity issues tokens with these keys.
    const port = await freePort();
    const issuerUrl = 'https://identity.rampart.test';
    const service = await startService(keyManagementService, {
      env: {
        ...setup.env,
        PORT: String(port),
        ACCESS_TOKEN_ISSUER: issuerUrl,
        ACCESS_TOKEN_JWKS_URI: `http://127.0.0.1:${port}/kms/v1/jwks`,
      },
    });
    const identity = await TokenSigningKeys.start({
      kmsUrl: service.url,
      signer: setup.signer('identity'),
      encryptionKeyFile: setup.keys.encryptionKeyFile('identity'),
    });
    try {
      // An access token as identity will issue it, signed in-process with the delivered key.
      const accessToken = () => {
        const now = Math.floor(Date.now() / 1000);
        return identity.sign(
          {
            iss: issuerUrl,
            sub: 'alice',
            aud: 'urn:rampart:key-management',
            scope: 'kms.admin',
            client_id: 'console',
            iat: now,
            exp: now + 300,
            jti: crypto.randomUUID(),
          },
          { typ: 'at+jwt' },
        );
      };
      const call = async (method: 'GET' | 'POST', path: string, token: string) =>
        (
          await fetch(`${service.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}` },
          })
        ).status;
      // A read-only route that admits kms.admin tokens shows whether the token verifies.
      const admitted = (token: string) => call('GET', '/kms/v1/root', token);

      const first = await accessToken();
      expect(await admitted(first)).toBe(200);
      expect(await call('POST', '/kms/v1/tokenSigningKeys:rotate', first)).toBe(200);
      // Identity has not refreshed yet: it still signs with the key that is PREVIOUS now, which
      // stays published, so a new token (not one the verifier remembers) is still admitted.
      const late = await accessToken();
      expect(decodeProtectedHeader(late).kid).toBe(decodeProtectedHeader(first).kid);
      expect(await admitted(late)).toBe(200);
      // After a refresh identity signs with the new CURRENT key, which the verifier already has:
      // it was published as NEXT when the verifier fetched the JWK Set.
      await identity.refresh();
      const fresh = await accessToken();
      expect(decodeProtectedHeader(fresh).kid).not.toBe(decodeProtectedHeader(first).kid);
      expect(await admitted(fresh)).toBe(200);
      expect(await admitted(`${fresh.slice(0, -6)}AAAAAA`)).toBe(401);
    } finally {
      identity.stop();
      await service.stop();
      await setup.close();
    }
  });
});

describe('token-signing keys through a root rotation', () => {
  it('are rewrapped under the new root, and identity still signs with them', async () => {
    const setup = await createKmsFixture();
    const rootB = await setup.newRootKeyFile('root-b.key');
    const wrappedBy = async (dataSource: DataSource) =>
      (
        await dataSource.query<{ wrapped_by: string }[]>(
          `SELECT wrapped_by FROM token_signing_keys WHERE wrapped_private_jwk IS NOT NULL`,
        )
      ).map((row) => row.wrapped_by);
    const underA = await startService(keyManagementService, { env: setup.env });
    let kids: string[];
    try {
      kids = (await keyRows(underA.dataSource!)).map((row) => row.kid);
      expect(new Set(await wrappedBy(underA.dataSource!))).toEqual(
        new Set([(await RootKey.fromFile(setup.rootKeyFile!)).id]),
      );
    } finally {
      await underA.stop();
    }

    const rotating = await startService(keyManagementService, {
      env: {
        ...setup.env,
        KMS_ROOT_KEY_FILE: rootB,
        KMS_PREVIOUS_ROOT_KEY_FILES: setup.rootKeyFile!,
      },
    });
    try {
      const signer = setup.signer('identity');
      await until(async () => {
        const response = await fetch(`${rotating.url}/kms/v1/root`, {
          headers: { [WORKLOAD_ASSERTION_HEADER]: await signer.assertionFor('key-management') },
        });
        const body = (await response.json()) as {
          remaining: number;
          tables: { table: string; rewrapped: number }[];
        };
        return body.remaining === 0 ? body : undefined;
      }).then((root) =>
        expect(root.tables).toContainEqual({
          table: 'token_signing_keys',
          rewrapped: 2,
          remaining: 0,
        }),
      );
    } finally {
      await rotating.stop();
    }

    // Root A is gone: the keys open under root B alone, unchanged.
    const underB = await startService(keyManagementService, {
      env: { ...setup.env, KMS_ROOT_KEY_FILE: rootB },
    });
    const identity = await TokenSigningKeys.start({
      kmsUrl: underB.url,
      signer: setup.signer('identity'),
      encryptionKeyFile: setup.keys.encryptionKeyFile('identity'),
    });
    try {
      expect(new Set(await wrappedBy(underB.dataSource!))).toEqual(
        new Set([(await RootKey.fromFile(rootB)).id]),
      );
      expect((await keyRows(underB.dataSource!)).map((row) => row.kid)).toEqual(kids);
      const token = await identity.sign({ sub: 'erin' });
      const { protectedHeader } = await jwtVerify(
        token,
        createRemoteJWKSet(new URL('/kms/v1/jwks', underB.url)),
      );
      expect(protectedHeader.kid).toBe(kids[0]);
    } finally {
      identity.stop();
      await underB.stop();
      await setup.close();
    }
  });
});

describe('token-signing schedule across replicas (real PostgreSQL, real timers)', () => {
  let setup: KmsFixture;
  const replicas: RunningService[] = [];

  beforeAll(async () => {
    setup = await createKmsFixture();
    const env = { ...setup.env, KMS_SCHEDULER_INTERVAL_SECONDS: '1' };
    // The second replica finds the keys the first made at start, and makes none of its own.
    replicas.push(await startService(keyManagementService, { env }));
    replicas.push(await startService(keyManagementService, { env }));
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await setup?.close();
  });

  it('rotates and retires exactly once, whichever replica holds the lock', async () => {
    const dataSource = replicas[0]!.dataSource!;
    const start = await keyRows(dataSource);
    expect(start.map((row) => row.state)).toEqual(['CURRENT', 'NEXT']);

    // Pretend the CURRENT key has signed for 31 days; the next tick of one replica rotates.
    await dataSource.query(
      `UPDATE token_signing_keys SET activated_at = activated_at - interval '31 days' WHERE state = 'CURRENT'`,
    );
    await until(async () =>
      kidIn(await keyRows(dataSource), 'CURRENT') === kidIn(start, 'NEXT') ? true : undefined,
    );
    await sleep(2_500); // at least two more ticks of both replicas
    const rotated = await keyRows(dataSource);
    expect(rotated.map((row) => row.state).sort()).toEqual(['CURRENT', 'NEXT', 'PREVIOUS']);

    // Pretend the grace period is over; the PREVIOUS key retires, once.
    await dataSource.query(
      `UPDATE token_signing_keys SET deactivated_at = deactivated_at - interval '25 hours' WHERE state = 'PREVIOUS'`,
    );
    await until(async () =>
      (await keyRows(dataSource)).some((row) => row.state === 'RETIRED') ? true : undefined,
    );
    await sleep(2_500);
    const types = (await events(dataSource)).map((event) => event.type.split('.').pop());
    expect(types).toEqual(['created', 'created', 'deactivated', 'activated', 'created', 'retired']);
    for (const replica of replicas) {
      const response = await fetch(`${replica.url}/kms/v1/jwks`);
      expect(((await response.json()) as { keys: JWK[] }).keys).toHaveLength(2);
    }
  });
});
