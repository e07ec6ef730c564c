import { Injectable } from '@nestjs/common';
import type { JWK } from 'jose';
import { DataSource, type EntityManager } from 'typeorm';
import type { TokenSigningAlgorithm, TokenSigningKeyState } from '@rampart/contracts';

export type LiveState = Exclude<TokenSigningKeyState, 'RETIRED'>;

export interface TokenSigningKeyRow {
  kid: string;
  algorithm: TokenSigningAlgorithm;
  state: TokenSigningKeyState;
  public_jwk: JWK;
  created_at: Date;
  activated_at: Date | null;
  deactivated_at: Date | null;
}

/** A row with its wrapped private key: read only to deliver it. */
export interface WrappedTokenSigningKeyRow extends TokenSigningKeyRow {
  wrapped_private_jwk: Buffer | null;
}

const COLUMNS = `kid, algorithm, state, public_jwk, created_at, activated_at, deactivated_at`;

/** Oldest first; keys made in one transaction (the first two) in lifecycle order. */
const ORDER = `created_at, array_position(ARRAY['RETIRED', 'PREVIOUS', 'CURRENT', 'NEXT'], state), kid`;

/** Timestamp column a state is entered with. */
const ENTERED_AT: Record<Exclude<TokenSigningKeyState, 'NEXT'>, string> = {
  CURRENT: 'activated_at',
  PREVIOUS: 'deactivated_at',
  RETIRED: 'retired_at',
};

/** The only place that builds queries on token-signing keys. */
@Injectable()
export class TokenSigningRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (transaction: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Serialises every state change across replicas until the transaction ends. `wait: false` is a
   * leader election per tick: a replica that does not get the lock leaves the work to the one that
   * has it.
   */
  async lock(transaction: EntityManager, schema: string, wait: boolean): Promise<boolean> {
    const rows = await transaction.query<{ locked: boolean }[]>(
      wait
        ? `SELECT pg_advisory_xact_lock(hashtext($1)) IS NOT NULL AS locked`
        : `SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked`,
      [`rampart.kms.token-signing.${schema}`],
    );
    return rows[0]?.locked === true;
  }

  /** NEXT, CURRENT and PREVIOUS keys, without private material. */
  async live(manager: EntityManager = this.dataSource.manager): Promise<TokenSigningKeyRow[]> {
    return manager.query<TokenSigningKeyRow[]>(
      `SELECT ${COLUMNS} FROM token_signing_keys WHERE state <> 'RETIRED' ORDER BY ${ORDER}`,
    );
  }

  /** Live keys with the wrapped private key of those in `withPrivate`. */
  async forDelivery(withPrivate: readonly LiveState[]): Promise<WrappedTokenSigningKeyRow[]> {
    return this.dataSource.query<WrappedTokenSigningKeyRow[]>(
      `SELECT ${COLUMNS},
              CASE WHEN state = ANY($1::text[]) THEN wrapped_private_jwk END AS wrapped_private_jwk
         FROM token_signing_keys WHERE state <> 'RETIRED' ORDER BY ${ORDER}`,
      [withPrivate],
    );
  }

  async insert(
    transaction: EntityManager,
    key: {
      kid: string;
      algorithm: TokenSigningAlgorithm;
      state: 'NEXT' | 'CURRENT';
      publicJwk: JWK;
      wrappedPrivateJwk: Buffer;
      /** The id of the root key that wrapped it. */
      wrappedBy: string;
    },
    now: Date,
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO token_signing_keys
         (kid, algorithm, state, public_jwk, wrapped_private_jwk, wrapped_by, created_at, activated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $3 = 'CURRENT' THEN $7::timestamptz END)`,
      [
        key.kid,
        key.algorithm,
        key.state,
        JSON.stringify(key.publicJwk),
        key.wrappedPrivateJwk,
        key.wrappedBy,
        now,
      ],
    );
  }

  /**
   * Moves one key from `from` to `to`, stamping when it entered `to`. A retired key loses its
   * private key for good (and so has nothing left for root rotation).
   */
  async transition(
    transaction: EntityManager,
    kid: string,
    from: LiveState,
    to: Exclude<TokenSigningKeyState, 'NEXT'>,
    now: Date,
  ): Promise<void> {
    const [, affected] = await transaction.query<[unknown, number]>(
      `UPDATE token_signing_keys
          SET state = $3, ${ENTERED_AT[to]} = $4,
              wrapped_private_jwk = CASE WHEN $3 = 'RETIRED' THEN NULL ELSE wrapped_private_jwk END,
              wrapped_by = CASE WHEN $3 = 'RETIRED' THEN NULL ELSE wrapped_by END
        WHERE kid = $1 AND state = $2`,
      [kid, from, to, now],
    );
    // Every caller holds the lock and has just read the state: anything else is a bug.
    if (affected !== 1) throw new Error(`token-signing key ${kid} was not ${from}`);
  }
}
