import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@rampart/platform';
import type { AdapterPayload } from 'oidc-provider';
import {
  createOidcStorageFixture,
  type OidcStorageFixture,
} from '../testing/oidc-storage-fixture.js';
import { OidcModelPurger } from './oidc-model-purger.js';
import { postgresAdapterFactory, purgeExpiredOidcModels } from './postgres-adapter.js';

const epoch = () => Math.floor(Date.now() / 1000);

/** A payload shaped like the ones oidc-provider saves for `kind`. */
function token(kind: string, extra: AdapterPayload = {}): AdapterPayload {
  const iat = epoch();
  return { iat, exp: iat + 600, jti: randomUUID(), kind, clientId: 'app', ...extra };
}

describe('PostgresAdapter (oidc-provider storage on real PostgreSQL)', () => {
  let storage: OidcStorageFixture;
  let adapter: ReturnType<typeof postgresAdapterFactory>;

  beforeAll(async () => {
    storage = await createOidcStorageFixture();
    adapter = postgresAdapterFactory(storage.dataSource);
  });

  afterAll(async () => {
    await storage?.close();
  });

  /** Makes a row look as if its expiry passed `seconds` ago, without waiting for it. */
  const backdate = (model: string, id: string, seconds = 5) =>
    storage.dataSource.query(
      `UPDATE oidc_models SET expires_at = now() - make_interval(secs => $3) WHERE model = $1 AND id = $2`,
      [model, id, seconds],
    );

  it.each(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'Grant', 'ClientCredentials'])(
    'round-trips a %s by id, replaces it on upsert and destroys it',
    async (model) => {
      const store = adapter(model);
      const payload = token(model, { grantId: 'g-roundtrip', scope: 'openid email' });
      await store.upsert(payload.jti!, payload, 600);
      expect(await store.find(payload.jti!)).toEqual(payload);

      const replaced = { ...payload, scope: 'openid' };
      await store.upsert(payload.jti!, replaced, 600);
      expect(await store.find(payload.jti!)).toEqual(replaced);
      expect(await storage.rows('model = $1 AND id = $2', [model, payload.jti])).toHaveLength(1);

      await store.destroy(payload.jti!);
      expect(await store.find(payload.jti!)).toBeUndefined();
      expect(await storage.rows('model = $1 AND id = $2', [model, payload.jti])).toHaveLength(0);
    },
  );

  it('keeps models apart: one id under two models is two rows, and find is by model', async () => {
    const id = randomUUID();
    await adapter('AccessToken').upsert(id, token('AccessToken', { jti: id }), 60);
    expect(await adapter('RefreshToken').find(id)).toBeUndefined();
    await adapter('RefreshToken').upsert(id, token('RefreshToken', { jti: id }), 60);
    expect(await adapter('AccessToken').find(id)).toMatchObject({ kind: 'AccessToken' });
    expect(await adapter('RefreshToken').find(id)).toMatchObject({ kind: 'RefreshToken' });
  });

  it('answers undefined for what was never stored', async () => {
    const store = adapter('Session');
    expect(await store.find('missing')).toBeUndefined();
    expect(await store.findByUid('missing')).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode('MISSING1')).toBeUndefined();
    await expect(store.destroy('missing')).resolves.toBeUndefined();
    await expect(store.consume('missing')).resolves.toBeUndefined();
  });

  it('finds a Session by its uid, and only by its current uid after an upsert changes it', async () => {
    const sessions = adapter('Session');
    const id = randomUUID();
    const session = { ...token('Session'), jti: id, uid: 'uid-1', accountId: 'alice' };
    await sessions.upsert(id, session, 3600);
    expect(await sessions.findByUid('uid-1')).toEqual(session);
    expect(await adapter('Interaction').findByUid('uid-1')).toBeUndefined();

    await sessions.upsert(id, { ...session, uid: 'uid-2' }, 3600);
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
    expect(await sessions.findByUid('uid-2')).toMatchObject({ accountId: 'alice', uid: 'uid-2' });
  });

  it('stores an Interaction under its uid (its id) and finds it by id', async () => {
    const interactions = adapter('Interaction');
    const uid = randomUUID();
    const interaction = {
      ...token('Interaction', { jti: uid }),
      returnTo: `https://op.example/auth/${uid}`,
      prompt: { name: 'login', reasons: ['no_session'], details: {} },
      params: { client_id: 'app', redirect_uri: 'https://app.example/cb', scope: 'openid' },
      grantId: 'g-of-interaction',
    };
    await interactions.upsert(uid, interaction, 3600);
    expect(await interactions.find(uid)).toEqual(interaction);
  });

  it('finds a DeviceCode by its user code, and not once it is destroyed', async () => {
    const codes = adapter('DeviceCode');
    const id = randomUUID();
    const code = token('DeviceCode', { jti: id, userCode: 'BCDF-GHJK', deviceInfo: { ua: 'tv' } });
    await codes.upsert(id, code, 600);
    expect(await codes.findByUserCode('BCDF-GHJK')).toEqual(code);
    expect(await adapter('AccessToken').findByUserCode('BCDF-GHJK')).toBeUndefined();
    await codes.destroy(id);
    expect(await codes.findByUserCode('BCDF-GHJK')).toBeUndefined();
  });

  it('consume marks the row in epoch seconds, keeps the first use, and leaves the payload alone', async () => {
    const codes = adapter('AuthorizationCode');
    const code = token('AuthorizationCode', { grantId: 'g-consume' });
    await codes.upsert(code.jti!, code, 60);
    expect(await codes.find(code.jti!)).not.toHaveProperty('consumed');

    const before = epoch();
    await codes.consume(code.jti!);
    const consumed = await codes.find(code.jti!);
    expect(consumed).toEqual({ ...code, consumed: expect.any(Number) });
    expect(consumed!['consumed']).toBeGreaterThanOrEqual(before - 1);
    expect(consumed!['consumed']).toBeLessThanOrEqual(epoch() + 1);

    // A replay consumes again: the recorded first use must not move.
    await storage.dataSource.query(
      `UPDATE oidc_models SET consumed_at = to_timestamp(1000000000) WHERE id = $1`,
      [code.jti],
    );
    await codes.consume(code.jti!);
    expect(await codes.find(code.jti!)).toMatchObject({ consumed: 1_000_000_000 });
    // The stored JSON never gets the mark: it lives in its own column.
    const [row] = await storage.rows('id = $1', [code.jti]);
    expect(row!.payload).not.toHaveProperty('consumed');
  });

  it('an upsert replaces the consumed mark with what its payload says, as the provider expects', async () => {
    const tokens = adapter('RefreshToken');
    const refresh = token('RefreshToken', { grantId: 'g-resave' });
    await tokens.upsert(refresh.jti!, refresh, 60);
    await tokens.consume(refresh.jti!);
    const found = await tokens.find(refresh.jti!);
    await tokens.upsert(refresh.jti!, found!, 60); // re-saved with `consumed` in its payload
    expect((await tokens.find(refresh.jti!))!['consumed']).toBe(found!['consumed']);
    await tokens.upsert(refresh.jti!, refresh, 60); // a payload without it is not consumed
    expect(await tokens.find(refresh.jti!)).not.toHaveProperty('consumed');
  });

  it('revokeByGrantId deletes codes and tokens of every model of that grant, and nothing else', async () => {
    const grantId = `g-${randomUUID()}`;
    const members = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode'].map(
      (model) => ({ model, payload: token(model, { grantId }) }),
    );
    for (const { model, payload } of members)
      await adapter(model).upsert(payload.jti!, payload, 600);
    const otherGrant = token('AccessToken', { grantId: 'g-other' });
    await adapter('AccessToken').upsert(otherGrant.jti!, otherGrant, 600);
    // The Grant itself and an Interaction naming the grant are not the grant's tokens: the
    // provider destroys the Grant on its own when its policy says so.
    const grant = token('Grant', { jti: grantId, accountId: 'alice' });
    await adapter('Grant').upsert(grantId, grant, 600);
    const interaction = token('Interaction', { grantId });
    await adapter('Interaction').upsert(interaction.jti!, interaction, 600);
    expect(await storage.rows('grant_id = $1', [grantId])).toHaveLength(4);

    await adapter('RefreshToken').revokeByGrantId(grantId);

    for (const { model, payload } of members)
      expect(await adapter(model).find(payload.jti!)).toBeUndefined();
    expect(await storage.rows('grant_id = $1', [grantId])).toHaveLength(0);
    expect(await adapter('AccessToken').find(otherGrant.jti!)).toEqual(otherGrant);
    expect(await adapter('Grant').find(grantId)).toEqual(grant);
    expect(await adapter('Interaction').find(interaction.jti!)).toEqual(interaction);
  });

  it('never returns a row past its expiry, by any lookup', async () => {
    const session = { ...token('Session'), uid: `uid-${randomUUID()}` };
    await adapter('Session').upsert(session.jti!, session, 1);
    const code = token('DeviceCode', { userCode: `EXP-${randomUUID()}` });
    await adapter('DeviceCode').upsert(code.jti!, code, 600);
    expect(await adapter('Session').find(session.jti!)).toEqual(session);

    await sleep(1_100); // a real expiry, measured by the database clock
    expect(await adapter('Session').find(session.jti!)).toBeUndefined();
    expect(await adapter('Session').findByUid(session.uid)).toBeUndefined();

    await backdate('DeviceCode', code.jti!);
    expect(await adapter('DeviceCode').find(code.jti!)).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode(code.userCode!)).toBeUndefined();
    // Still stored until purged.
    expect(await storage.rows('id = ANY($1)', [[session.jti, code.jti]])).toHaveLength(2);
  });

  it('prefers the live row when an expired one shares its user code', async () => {
    const userCode = `DUP-${randomUUID()}`;
    const old = token('DeviceCode', { userCode });
    await adapter('DeviceCode').upsert(old.jti!, old, 600);
    await backdate('DeviceCode', old.jti!);
    const fresh = token('DeviceCode', { userCode });
    await adapter('DeviceCode').upsert(fresh.jti!, fresh, 600);
    expect(await adapter('DeviceCode').findByUserCode(userCode)).toEqual(fresh);
  });

  it('keeps a row without expiry (a registered client) forever, and a clock tolerance extends expiry', async () => {
    const client = { client_id: `c-${randomUUID()}`, redirect_uris: ['https://app.example/cb'] };
    await adapter('Client').upsert(client.client_id, client);
    const [row] = await storage.rows('id = $1', [client.client_id]);
    expect(row!.expires_at).toBeNull();
    expect(await adapter('Client').find(client.client_id)).toEqual(client);

    const tolerant = postgresAdapterFactory(storage.dataSource, { clockToleranceSeconds: 30 });
    const access = token('AccessToken');
    await tolerant('AccessToken').upsert(access.jti!, access, 60);
    const [stored] = await storage.rows('id = $1', [access.jti]);
    const lifetime = (stored!.expires_at!.getTime() - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(85);
    expect(lifetime).toBeLessThanOrEqual(91);
  });

  it('serves a client read within clientCacheMs from memory, forgetting it on its own writes', async () => {
    const cached = postgresAdapterFactory(storage.dataSource, { clientCacheMs: 300 });
    const client = { client_id: `c-${randomUUID()}`, client_name: 'first' };
    await cached('Client').upsert(client.client_id, client);
    expect(await cached('Client').find(client.client_id)).toEqual(client);
    // Another replica changes it: this one keeps the metadata it read, for at most 300 ms.
    await adapter('Client').upsert(client.client_id, { ...client, client_name: 'elsewhere' });
    expect(await cached('Client').find(client.client_id)).toEqual(client);
    await sleep(350);
    expect(await cached('Client').find(client.client_id)).toMatchObject({
      client_name: 'elsewhere',
    });
    // Its own update and deletion show at once, through any adapter of the same factory.
    await cached('Client').upsert(client.client_id, { ...client, client_name: 'updated' });
    expect(await cached('Client').find(client.client_id)).toMatchObject({ client_name: 'updated' });
    await cached('Client').destroy(client.client_id);
    expect(await cached('Client').find(client.client_id)).toBeUndefined();
    // Other models are always read from the table.
    const access = token('AccessToken');
    await cached('AccessToken').upsert(access.jti!, access, 60);
    expect(await cached('AccessToken').find(access.jti!)).toEqual(access);
    await storage.dataSource.query(`DELETE FROM oidc_models WHERE id = $1`, [access.jti]);
    expect(await cached('AccessToken').find(access.jti!)).toBeUndefined();
  });

  it('settles concurrent upserts of one id into one row holding one of the writes', async () => {
    const store = adapter('Session');
    const id = randomUUID();
    const writes = Array.from({ length: 25 }, (_, n) => ({
      ...token('Session'),
      jti: id,
      uid: `uid-${id}-${n}`,
      accountId: `writer-${n}`,
    }));
    await Promise.all(writes.map((payload) => store.upsert(id, payload, 600)));
    const rows = await storage.rows('model = $1 AND id = $2', ['Session', id]);
    expect(rows).toHaveLength(1);
    const winner = writes.find((payload) => payload.uid === rows[0]!.uid);
    expect(winner).toBeDefined();
    expect(await store.find(id)).toEqual(winner);
    expect(await store.findByUid(winner!.uid)).toEqual(winner);
  });

  it('keeps unicode and nested JSON exactly', async () => {
    const payload: AdapterPayload = {
      ...token('Session'),
      uid: 'uid-ünïcødé-🔐',
      accountId: 'Zoë 山田 علي',
      authorizations: {
        'app-ß': { sid: 'sïd', grantId: 'g-ü', persistsLogout: true },
      },
      state: {
        nested: { deeper: [1, 2.5, -3, null, true, 'text "quoted" \\ back\nline'] },
        emoji: '👩🏽‍💻',
        empty: {},
        list: [],
        rtl: '\u202Eevil',
      },
    };
    await adapter('Session').upsert(payload.jti!, payload, 600);
    expect(await adapter('Session').find(payload.jti!)).toEqual(payload);
    expect(await adapter('Session').findByUid('uid-ünïcødé-🔐')).toEqual(payload);
  });

  it('stores NUL characters a client put in its request, and finds nothing under a NUL key', async () => {
    // Request parameters end up in Interaction payloads verbatim; PostgreSQL text and jsonb
    // refuse U+0000, which would turn such a request into a server error.
    const interaction = token('Interaction', {
      params: { client_id: 'app', state: 'before\u0000after', nonce: '\u0000' },
    });
    await adapter('Interaction').upsert(interaction.jti!, interaction, 600);
    expect(await adapter('Interaction').find(interaction.jti!)).toEqual(interaction);

    await adapter('Interaction').consume(interaction.jti!);
    expect(await adapter('Interaction').find(interaction.jti!)).toMatchObject({
      params: { state: 'before\u0000after' },
      consumed: expect.any(Number),
    });

    expect(await adapter('Interaction').find('a\u0000b')).toBeUndefined();
    expect(await adapter('Session').findByUid('a\u0000b')).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode('\u0000')).toBeUndefined();
    await expect(adapter('Interaction').consume('\u0000')).resolves.toBeUndefined();
    await expect(adapter('Interaction').destroy('\u0000')).resolves.toBeUndefined();
    await expect(adapter('AccessToken').revokeByGrantId('\u0000')).resolves.toBeUndefined();
  });

  it('purges expired rows in bounded batches and leaves live ones', async () => {
    await storage.dataSource.query(`DELETE FROM oidc_models`);
    const expired = Array.from({ length: 7 }, () => token('AccessToken'));
    for (const payload of expired) {
      await adapter('AccessToken').upsert(payload.jti!, payload, 600);
      await backdate('AccessToken', payload.jti!);
    }
    const live = token('AccessToken');
    await adapter('AccessToken').upsert(live.jti!, live, 600);
    const forever = { client_id: 'forever' };
    await adapter('Client').upsert('forever', forever);

    expect(await purgeExpiredOidcModels(storage.dataSource, 3)).toBe(3);
    expect(await storage.rows()).toHaveLength(6);

    const purger = new OidcModelPurger(storage.dataSource, createLogger('identity', 'silent'));
    // 4 expired left, 3 per batch: two batches, the second short, so the loop stops there.
    expect(await purger.purge({ intervalMs: 1, batchSize: 3, maxBatches: 10 })).toBe(4);
    expect((await storage.rows()).map((row) => row.id).sort()).toEqual(
      [live.jti!, 'forever'].sort(),
    );

    // maxBatches bounds one run; the rest waits for the next.
    const more = Array.from({ length: 5 }, () => token('AccessToken'));
    for (const payload of more) {
      await adapter('AccessToken').upsert(payload.jti!, payload, 600);
      await backdate('AccessToken', payload.jti!);
    }
    expect(await purger.purge({ intervalMs: 1, batchSize: 2, maxBatches: 1 })).toBe(2);
    expect(await storage.rows()).toHaveLength(5);
  });

  it('purges on its own schedule once the application starts, and stops with it', async () => {
    const payload = token('AccessToken');
    await adapter('AccessToken').upsert(payload.jti!, payload, 600);
    await backdate('AccessToken', payload.jti!);
    const purger = new OidcModelPurger(storage.dataSource, createLogger('identity', 'silent'));
    purger.settings = { intervalMs: 20, batchSize: 100, maxBatches: 5 };
    purger.onApplicationBootstrap();
    try {
      const deadline = Date.now() + 5_000;
      while ((await storage.rows('id = $1', [payload.jti])).length > 0) {
        if (Date.now() > deadline) throw new Error('the scheduled purge never ran');
        await sleep(20);
      }
    } finally {
      await purger.onApplicationShutdown();
    }
    // Stopped: nothing is purged any more.
    const later = token('AccessToken');
    await adapter('AccessToken').upsert(later.jti!, later, 600);
    await backdate('AccessToken', later.jti!);
    await sleep(100);
    expect(await storage.rows('id = $1', [later.jti])).toHaveLength(1);
  });
});
