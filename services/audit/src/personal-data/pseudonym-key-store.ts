import { KmsError, type KmsClient } from '@rampart/platform';
import type { DataSource } from 'typeorm';
import { Pseudonyms } from './pseudonyms.js';

interface StoredKey {
  id: number;
  kmsKey: string;
  wrappedKey: Buffer;
}

/** The first key's id; a rotation would add the next one (not built, see ADR 0024). */
const FIRST_KEY_ID = 1;

/** Binds a wrapped key to its row: a wrapped key copied to another id does not unwrap there. */
const binding = (id: number) => Buffer.from(`rampart.audit.pseudonym-key:${id}`, 'utf8');

async function latestKey(db: DataSource): Promise<StoredKey | undefined> {
  const rows = await db.query<{ id: number; kms_key: string; wrapped_key: Buffer }[]>(
    `SELECT id, kms_key, wrapped_key FROM audit_pseudonym_keys ORDER BY id DESC LIMIT 1`,
  );
  const row = rows[0];
  return row && { id: row.id, kmsKey: row.kms_key, wrappedKey: row.wrapped_key };
}

/** Creates the audit service's wrapping key in its own key ring; taken (409) means it exists. */
async function ensureWrappingKey(kms: KmsClient, name: string): Promise<void> {
  try {
    await kms.createKey(name);
  } catch (error) {
    if (error instanceof KmsError && error.upstream.status === 409) return;
    throw error;
  }
}

/**
 * The pseudonym key, unwrapped through the KMS once and then held in memory. On the first start
 * of a log, a data key is generated under `wrappingKey` (an ENCRYPT_DECRYPT key in the audit key
 * ring) and its wrapped form stored; replicas starting together race on the primary key and every
 * one of them then reads the row that won, so the log has one pseudonym key.
 */
export async function loadPseudonymKey(
  kms: KmsClient,
  db: DataSource,
  wrappingKey: string,
): Promise<Pseudonyms> {
  let stored = await latestKey(db);
  if (!stored) {
    await ensureWrappingKey(kms, wrappingKey);
    const fresh = await kms.generateDataKey(wrappingKey, binding(FIRST_KEY_ID));
    fresh.plaintext.fill(0);
    await db.query(
      `INSERT INTO audit_pseudonym_keys (id, kms_key, wrapped_key) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO NOTHING`,
      [FIRST_KEY_ID, wrappingKey, fresh.ciphertext],
    );
    stored = await latestKey(db);
    if (!stored) throw new Error('the pseudonym key was stored but cannot be read back');
  }
  const { plaintext } = await kms.decrypt(stored.kmsKey, stored.wrappedKey, binding(stored.id));
  try {
    return new Pseudonyms(stored.id, plaintext);
  } finally {
    plaintext.fill(0);
  }
}
