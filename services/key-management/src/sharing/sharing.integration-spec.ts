import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CompactEncrypt, importJWK } from 'jose';
import {
  fromBase64,
  generateWrapKeyPair,
  open,
  SecureSharing,
  SharingApiError,
  SharingClient,
  unwrap,
  utf8,
  wrapFor,
  type WrapKeyPair,
} from '@rampart/e2ee';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';

const SCOPE = 'kms.share';

interface User {
  name: string;
  keys: WrapKeyPair;
  client: SharingClient;
  sharing: SecureSharing;
}

/**
 * Every way a stored value could hold `needle`: its bytes as stored, as text, and any base64,
 * base64url or hex run inside the text decoded. A server that kept a plaintext or a data key in
 * any of those forms, in any column, is caught.
 */
function containsSecret(value: unknown, needle: Uint8Array): boolean {
  const haystacks: Buffer[] = [];
  const text =
    value instanceof Buffer
      ? value.toString('latin1')
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  haystacks.push(value instanceof Buffer ? (value as Buffer) : Buffer.from(text, 'utf8'));
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    // From every alignment: an encoding may start mid-run (a prefix, a concatenation).
    for (let shift = 0; shift < 4; shift++) {
      haystacks.push(Buffer.from(run.slice(shift), 'base64'));
      haystacks.push(Buffer.from(run.slice(shift), 'base64url'));
    }
  }
  for (const run of text.match(/[0-9a-fA-F]{32,}/g) ?? []) haystacks.push(Buffer.from(run, 'hex'));
  return haystacks.some((haystack) => haystack.includes(Buffer.from(needle)));
}

describe('end-to-end encrypted sharing (real service, real PostgreSQL, two users with tokens)', () => {
  let kms: KmsHarness;
  const users: Record<string, User> = {};
  const secrets: { label: string; bytes: Uint8Array }[] = [];

  async function user(name: string): Promise<User> {
    const keys = await generateWrapKeyPair();
    const client = new SharingClient({
      baseUrl: kms.service.url,
      accessToken: () => kms.token(name, SCOPE),
    });
    const created = {
      name,
      keys,
      client,
      sharing: new SecureSharing(client, { user: name, keys }),
    };
    users[name] = created;
    return created;
  }

  /** Raw HTTP for the refusals the client library would never send. */
  async function call(
    token: string | undefined,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ) {
    const response = await fetch(`${kms.service.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  /** The raw data key of the object's current version, as its owner's device sees it. */
  async function dataKeyOf(owner: User, id: string): Promise<Uint8Array> {
    const object = await owner.client.getObject(id);
    const key = await unwrap(object.wrappedKey.jwe, owner.keys.privateKey);
    return new Uint8Array(await crypto.subtle.exportKey('raw', key));
  }

  beforeAll(async () => {
    kms = await startKms();
    for (const name of ['alice', 'bob', 'carol']) await (await user(name)).sharing.register();
  });

  afterAll(async () => {
    await kms?.stop();
  });

  let objectId: string;
  let bobsOldJwe: string;
  const recipe = utf8.encode(`zero-knowledge marker ${crypto.randomUUID()}: the secret recipe`);

  it('publishes public WRAP keys with fingerprints users can compare', async () => {
    const { alice, bob } = users;
    const published = await alice!.client.getWrapKey('bob');
    expect(published.publicJwk).toEqual(bob!.keys.publicJwk);
    expect(published.fingerprint).toBe(bob!.keys.fingerprint);
    await expect(alice!.client.getWrapKey('nobody')).rejects.toMatchObject({ status: 404 });
  });

  it('shares: the recipient decrypts on their device, others get nothing', async () => {
    const { alice, bob, carol } = users;
    ({ id: objectId } = await alice!.sharing.create(recipe, ['bob']));
    secrets.push(
      { label: 'plaintext', bytes: recipe },
      {
        label: 'data key v1',
        bytes: await dataKeyOf(alice!, objectId),
      },
    );

    expect(utf8.decode(await bob!.sharing.read(objectId))).toBe(utf8.decode(recipe));
    const asBob = await bob!.client.getObject(objectId);
    expect(asBob).toMatchObject({ owner: 'alice', version: 1, wrappedKey: { recipient: 'bob' } });
    expect(asBob.recipients).toBeUndefined(); // only the owner learns who else reads
    bobsOldJwe = asBob.wrappedKey.jwe;
    expect((await alice!.client.getObject(objectId)).recipients).toEqual(['alice', 'bob']);

    await expect(carol!.sharing.read(objectId)).rejects.toMatchObject({
      status: 404,
      code: 'not-found',
    });
    // Nor can she hand it to herself: she has no wrapped key to start from.
    await expect(carol!.sharing.share(objectId, 'carol')).rejects.toBeInstanceOf(SharingApiError);

    await alice!.sharing.share(objectId, 'carol');
    expect(utf8.decode(await carol!.sharing.read(objectId))).toBe(utf8.decode(recipe));
    expect((await alice!.client.getObject(objectId)).recipients).toEqual(['alice', 'bob', 'carol']);
  });

  it('revokes by re-encrypting: the revoked key no longer opens the new ciphertext', async () => {
    const { alice, bob, carol } = users;
    const before = await alice!.client.getObject(objectId);
    const { version } = await alice!.sharing.revoke(objectId, 'bob');
    expect(version).toBe(2);
    secrets.push({ label: 'data key v2', bytes: await dataKeyOf(alice!, objectId) });

    await expect(bob!.client.getObject(objectId)).rejects.toMatchObject({ status: 404 });
    const now = await carol!.client.getObject(objectId);
    expect(now.ciphertext).not.toBe(before.ciphertext);
    // Bob kept his old JWE and still holds his private key: it yields the old data key only.
    const bobsOldKey = await unwrap(bobsOldJwe, bob!.keys.privateKey);
    await expect(open(fromBase64(now.ciphertext), objectId, bobsOldKey)).rejects.toMatchObject({
      code: 'open-failed',
    });
    expect(utf8.decode(await open(fromBase64(before.ciphertext), objectId, bobsOldKey))).toBe(
      utf8.decode(recipe),
    );
    expect(utf8.decode(await carol!.sharing.read(objectId))).toBe(utf8.decode(recipe));
    expect(utf8.decode(await alice!.sharing.read(objectId))).toBe(utf8.decode(recipe));
    expect(now.version).toBe(2);
  });

  it('refuses a stale revoke or share, and incomplete or foreign re-encryptions', async () => {
    const { alice, bob } = users;
    const current = await alice!.client.getObject(objectId);
    const ownKey = await unwrap(current.wrappedKey.jwe, alice!.keys.privateKey);
    const forAlice = await wrapFor(ownKey, alice!.keys.publicJwk);

    const stale = await alice!.client
      .revoke(objectId, {
        version: 1,
        recipient: 'carol',
        ciphertext: current.ciphertext,
        wrappedKeys: [{ recipient: 'alice', jwe: forAlice }],
      })
      .catch((error: unknown) => error);
    expect(stale).toMatchObject({ status: 409, code: 'conflict', problem: { version: 2 } });
    await expect(
      alice!.client.share(objectId, {
        version: 1,
        recipient: 'bob',
        jwe: await wrapFor(ownKey, bob!.keys.publicJwk),
      }),
    ).rejects.toMatchObject({ status: 409 });

    // The new keys must be for exactly the remaining readers: bob is no longer one.
    await expect(
      alice!.client.revoke(objectId, {
        version: 2,
        recipient: 'carol',
        ciphertext: current.ciphertext,
        wrappedKeys: [
          { recipient: 'alice', jwe: forAlice },
          { recipient: 'bob', jwe: await wrapFor(ownKey, bob!.keys.publicJwk) },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, code: 'failed-precondition' });
    // A reader cannot share or revoke; a stranger learns nothing.
    const carolsView = await users['carol']!.client.getObject(objectId);
    await expect(
      users['carol']!.client.share(objectId, {
        version: 2,
        recipient: 'bob',
        jwe: await wrapFor(ownKey, bob!.keys.publicJwk),
      }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      bob!.client.revoke(objectId, {
        version: carolsView.version,
        recipient: 'carol',
        ciphertext: current.ciphertext,
        wrappedKeys: [{ recipient: 'alice', jwe: forAlice }],
      }),
    ).rejects.toMatchObject({ status: 404 });
    // Nothing was half-applied.
    expect(await alice!.client.getObject(objectId)).toMatchObject({
      version: 2,
      ciphertext: current.ciphertext,
      recipients: ['alice', 'carol'],
    });
  });

  it('answers bad keys, bad JWEs, oversize content and bad tokens with problem+json', async () => {
    const { alice, bob } = users;
    const token = await kms.token('alice', SCOPE);
    const extractable = await crypto.subtle.generateKey(
      { name: 'ECDH', namedCurve: 'P-256' },
      true,
      ['deriveBits'],
    );
    const privateJwk = await crypto.subtle.exportKey('jwk', extractable.privateKey);
    const { d: _d, ...publicJwk } = privateJwk;

    const withD = await call(token, 'POST', '/kms/v1/wrapKeys', { publicJwk: privateJwk });
    expect(withD).toMatchObject({
      status: 400,
      type: expect.stringContaining('application/problem+json'),
      body: { code: 'validation-failed', errors: [{ path: 'publicJwk.d' }] },
    });
    for (const jwk of [
      { ...publicJwk, crv: 'P-384' },
      { ...publicJwk, kty: 'RSA' },
      { ...publicJwk, y: publicJwk.x }, // not a point on the curve
      { ...publicJwk, x: 'AAAA' },
    ]) {
      expect(await call(token, 'POST', '/kms/v1/wrapKeys', { publicJwk: jwk })).toMatchObject({
        status: 400,
        body: { code: 'validation-failed' },
      });
    }
    // Alice's registered key survived every refused replacement.
    expect((await bob!.client.getWrapKey('alice')).fingerprint).toBe(alice!.keys.fingerprint);

    const id = crypto.randomUUID();
    const dataKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
      'encrypt',
    ]);
    const goodJwe = await wrapFor(dataKey, alice!.keys.publicJwk);
    const aliceKey = await importJWK({ ...alice!.keys.publicJwk }, 'ECDH-ES+A128KW');
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', dataKey));
    const weakJwe = await new CompactEncrypt(raw)
      .setProtectedHeader({ alg: 'ECDH-ES+A128KW', enc: 'A256GCM', kid: alice!.keys.fingerprint })
      .encrypt(aliceKey);
    // Well-formed and for alice's key, but carrying content instead of a 32-byte key.
    const bulkyJwe = await new CompactEncrypt(utf8.encode('content smuggled into a JWE, not a key'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: alice!.keys.fingerprint })
      .encrypt(await importJWK({ ...alice!.keys.publicJwk }, 'ECDH-ES+A256KW'));
    // Made for a key alice no longer has registered (kid is that key's fingerprint).
    const forOldKey = await wrapFor(dataKey, (await generateWrapKeyPair()).publicJwk);
    const sealed = Buffer.concat([Buffer.from([1]), Buffer.alloc(12 + 16 + 3)]).toString('base64');
    const create = (jwe: string, ciphertext = sealed) =>
      call(token, 'POST', '/kms/v1/sharedObjects', {
        id,
        ciphertext,
        wrappedKeys: [{ recipient: 'alice', jwe }],
      });
    for (const jwe of [weakJwe, bulkyJwe, forOldKey, 'a.b.c.d.e']) {
      expect(await create(jwe)).toMatchObject({
        status: 400,
        body: { code: 'validation-failed', errors: [{ path: 'wrappedKeys.0.jwe' }] },
      });
    }
    const oversize = Buffer.alloc(600 * 1024, 7).toString('base64');
    expect(await create(goodJwe, oversize)).toMatchObject({
      status: 413,
      type: expect.stringContaining('application/problem+json'),
      body: { code: 'payload-too-large' },
    });
    expect(
      await call(token, 'POST', '/kms/v1/sharedObjects', {
        id,
        ciphertext: sealed,
        wrappedKeys: [{ recipient: 'bob', jwe: await wrapFor(dataKey, bob!.keys.publicJwk) }],
      }),
    ).toMatchObject({ status: 400, body: { errors: [{ path: 'wrappedKeys' }] } });
    // Content that was never sealed is refused: the service cannot read it, but can see its shape.
    for (const unsealed of [
      'AQID',
      Buffer.from('a plaintext someone forgot to seal').toString('base64'),
    ]) {
      expect(await create(goodJwe, unsealed)).toMatchObject({
        status: 400,
        body: { code: 'validation-failed', errors: [{ path: 'ciphertext' }] },
      });
    }
    expect((await create(goodJwe)).status).toBe(201);
    expect((await create(goodJwe)).status).toBe(409);

    expect((await call(undefined, 'GET', '/kms/v1/wrapKeys/alice')).status).toBe(401);
    const unscoped = await kms.token('alice', 'openid');
    expect((await call(unscoped, 'GET', '/kms/v1/wrapKeys/alice')).status).toBe(403);
    expect((await call(token, 'GET', '/kms/v1/sharedObjects/not-a-uuid')).status).toBe(400);
    expect((await call(token, 'POST', `/kms/v1/sharedObjects/${id}:publish`, {})).status).toBe(404);
  });

  it('records who shares with whom in events, without content or keys', async () => {
    const rows = await kms.query<{ payload: string }>(
      `SELECT payload FROM outbox WHERE topic = 'rampart.key-management.shared-object.v1' AND message_key = $1 ORDER BY id`,
      [objectId],
    );
    expect(
      rows.map((row) => {
        const event = JSON.parse(row.payload) as { type: string; data: unknown };
        return [event.type.split('.').pop(), event.data];
      }),
    ).toEqual([
      ['created', { objectId, owner: 'alice', version: 1, recipients: 2 }],
      ['shared', { objectId, owner: 'alice', version: 1, recipient: 'carol', recipients: 3 }],
      ['revoked', { objectId, owner: 'alice', version: 2, recipient: 'bob', recipients: 2 }],
    ]);
  });

  it('never stores a plaintext or a raw data key: a scan of every table of the database', async () => {
    expect(secrets.map((secret) => secret.label)).toEqual([
      'plaintext',
      'data key v1',
      'data key v2',
    ]);
    // The scan itself must be able to fail: it finds a secret planted in any of the forms it knows.
    for (const planted of [
      Buffer.from(secrets[1]!.bytes),
      { k: Buffer.from(secrets[1]!.bytes).toString('base64url') },
      `x${Buffer.from(secrets[0]!.bytes).toString('base64')}`,
      Buffer.from(secrets[2]!.bytes).toString('hex'),
    ]) {
      expect(secrets.some((secret) => containsSecret(planted, secret.bytes))).toBe(true);
    }

    // Every table of the service's schema, whatever later migrations add: the messaging tables
    // (outbox, inbox) included.
    const tables = await kms.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema = current_schema()`,
    );
    const scanned: Record<string, number> = {};
    const found: string[] = [];
    for (const { name } of tables) {
      const rows = await kms.query<Record<string, unknown>>(`SELECT * FROM "${name}"`);
      scanned[name] = rows.length;
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          for (const secret of secrets) {
            if (value !== null && containsSecret(value, secret.bytes)) {
              found.push(`${name}.${column} holds the ${secret.label}`);
            }
          }
        }
      }
    }
    // The scan covered the tables that hold the shared data and the events about it.
    expect(scanned).toMatchObject({
      wrap_keys: 3,
      shared_objects: 2,
      shared_object_keys: 3, // alice and carol on the revoked object, alice on the second
    });
    expect(scanned['outbox']).toBeGreaterThanOrEqual(4);
    expect(found).toEqual([]);
  });
});
