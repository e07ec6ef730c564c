import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { QueryResultRow } from 'pg';
import { runPrepared } from '@rampart/platform';
import type { DataSource } from 'typeorm';

/**
 * The models whose rows belong to a grant: revoking the grant deletes them all, whichever model's
 * adapter is asked (the same set as oidc-provider's own memory adapter). Other models carry a
 * `grantId` too (an Interaction names the grant it is building) but must outlive a revocation.
 */
const GRANT_MEMBERS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** A row is visible until `expires_at`; `NULL` never expires (clients registered at run time). */
const LIVE = `(expires_at IS NULL OR expires_at > now())`;

/**
 * PostgreSQL text refuses U+0000. Lookup keys come from requests (an interaction id in a URL, a
 * user code typed in), so a key holding one cannot match a stored row and is answered as absent
 * rather than turned into a database error.
 */
const storable = (key: string) => !key.includes('\u0000');

type StoredRow = {
  payload: AdapterPayload;
  /** `consumed_at` in epoch seconds. */
  consumed: number | null;
};

export interface PostgresAdapterOptions {
  /**
   * Seconds a row stays readable past its expiry, as oidc-provider's `clockTolerance` lets a
   * token be up to that late (its memory adapter does the same). Default 0.
   */
  clockToleranceSeconds?: number;
  /**
   * Milliseconds a client's metadata read from the table is served from memory. Every token,
   * introspection and authorization request reads its client; the metadata changes only through
   * registration management, which this process sees (and forgets the entry) at once, while
   * another replica's change shows here within this time. Default 1000; 0 turns it off.
   */
  clientCacheMs?: number;
}

/** Clients kept in memory at most; beyond it the oldest read goes first. */
const CLIENT_CACHE_ENTRIES = 1_000;

/** Recently read client metadata, shared by every adapter one factory makes. */
class RecentClients {
  private readonly entries = new Map<string, { payload: AdapterPayload; until: number }>();

  constructor(private readonly lifetimeMs: number) {}

  get(id: string): AdapterPayload | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until > performance.now()) return entry.payload;
    this.entries.delete(id);
    return undefined;
  }

  remember(id: string, payload: AdapterPayload): void {
    if (this.lifetimeMs <= 0) return;
    this.entries.delete(id);
    this.entries.set(id, { payload, until: performance.now() + this.lifetimeMs });
    if (this.entries.size > CLIENT_CACHE_ENTRIES) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}

/**
 * oidc-provider's storage in PostgreSQL: every model in the `oidc_models` table, one row per
 * (model, id), the provider's payload as JSON and the columns it looks rows up by. The provider
 * makes one adapter per model name (see `postgresAdapterFactory`). This class is the only place
 * that builds queries on the table.
 */
export class PostgresAdapter implements Adapter {
  private readonly clockTolerance: number;

  /** Only for the Client model. */
  private readonly recentClients: RecentClients | undefined;

  constructor(
    private readonly model: string,
    private readonly dataSource: DataSource,
    options: PostgresAdapterOptions = {},
    recentClients?: RecentClients,
  ) {
    this.clockTolerance = options.clockToleranceSeconds ?? 0;
    this.recentClients =
      model === 'Client'
        ? (recentClients ?? new RecentClients(options.clientCacheMs ?? 1_000))
        : undefined;
  }

  /** One of the adapter's statements, prepared once per connection (see `runPrepared`). */
  private run<Row extends QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<Row[]> {
    return runPrepared<Row>(this.dataSource, `oidc-adapter-${name}`, text, values);
  }

  /**
   * Inserts or replaces the row in one statement, so concurrent saves of one id cannot fail on
   * the primary key. A replaced row takes the new payload whole, as the memory adapter does: its
   * `consumed` mark survives only if the payload carries it.
   */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const grantId = GRANT_MEMBERS.has(this.model) ? text(payload.grantId) : null;
    const lifetime = typeof expiresIn === 'number' ? expiresIn + this.clockTolerance : null;
    const consumed = typeof payload.consumed === 'number' ? payload.consumed : null;
    this.recentClients?.forget(id);
    await this.run(
      'upsert',
      `INSERT INTO oidc_models
         (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
       VALUES ($1, $2, $3, $4, $5, $6,
         now() + make_interval(secs => $7::double precision),
         to_timestamp($8::double precision))
       ON CONFLICT (model, id) DO UPDATE SET
         payload = EXCLUDED.payload,
         grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code,
         uid = EXCLUDED.uid,
         expires_at = EXCLUDED.expires_at,
         consumed_at = EXCLUDED.consumed_at`,
      [
        this.model,
        id,
        JSON.stringify(payload),
        grantId,
        text(payload.userCode),
        text(payload.uid),
        lifetime,
        consumed,
      ],
    );
    // Again: a read that overlapped the write may have kept the old metadata.
    this.recentClients?.forget(id);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const recent = this.recentClients?.get(id);
    if (recent) return recent;
    const payload = await this.findOne('id', id);
    if (payload) this.recentClients?.remember(id, payload);
    return payload;
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findOne('user_code', userCode);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findOne('uid', uid);
  }

  /** Marks the row used; the first use's time is kept, so a replay cannot move it. */
  async consume(id: string): Promise<void> {
    if (!storable(id)) return;
    await this.run(
      'consume',
      `UPDATE oidc_models SET consumed_at = coalesce(consumed_at, now())
        WHERE model = $1 AND id = $2`,
      [this.model, id],
    );
  }

  async destroy(id: string): Promise<void> {
    if (!storable(id)) return;
    this.recentClients?.forget(id);
    await this.run('destroy', `DELETE FROM oidc_models WHERE model = $1 AND id = $2`, [
      this.model,
      id,
    ]);
    this.recentClients?.forget(id);
  }

  /** Deletes every code and token of the grant, of all models, in one statement. */
  async revokeByGrantId(grantId: string): Promise<void> {
    if (!storable(grantId)) return;
    await this.run('revoke-grant', `DELETE FROM oidc_models WHERE grant_id = $1`, [grantId]);
  }

  /**
   * The payload as oidc-provider stored it, with `consumed` (epoch seconds) once the row was
   * consumed: that is how the provider sees a code or refresh token was used already.
   */
  private async findOne(
    column: 'id' | 'user_code' | 'uid',
    value: string,
  ): Promise<AdapterPayload | undefined> {
    if (!storable(value)) return undefined;
    // A secondary key could match an expired row and a live one; the live one with the longest
    // life is the one the memory adapter would have kept (the latest written).
    const rows = await this.run<StoredRow>(
      `find-by-${column}`,
      `SELECT payload, floor(extract(epoch FROM consumed_at))::float8 AS consumed
         FROM oidc_models
        WHERE model = $1 AND ${column} = $2 AND ${LIVE}
        ORDER BY expires_at DESC NULLS FIRST
        LIMIT 1`,
      [this.model, value],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.consumed === null ? row.payload : { ...row.payload, consumed: row.consumed };
  }
}

/** What `new Provider(issuer, { adapter })` takes: one adapter per model name. */
export function postgresAdapterFactory(
  dataSource: DataSource,
  options: PostgresAdapterOptions = {},
): AdapterFactory {
  const recentClients = new RecentClients(options.clientCacheMs ?? 1_000);
  return (model) => new PostgresAdapter(model, dataSource, options, recentClients);
}

/**
 * Deletes up to `batchSize` expired rows, oldest first, and returns how many went. Rows locked by
 * a concurrent purge (another replica) are skipped rather than waited for.
 */
export async function purgeExpiredOidcModels(
  dataSource: DataSource,
  batchSize: number,
): Promise<number> {
  const [, deleted] = await dataSource.query<[unknown[], number]>(
    `DELETE FROM oidc_models WHERE (model, id) IN (
       SELECT model, id FROM oidc_models
        WHERE expires_at <= now()
        ORDER BY expires_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED)`,
    [batchSize],
  );
  return deleted;
}

/** A lookup column's value: a non-empty string PostgreSQL can hold, or nothing to look up by. */
function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && storable(value) ? value : null;
}
