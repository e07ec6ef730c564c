import type { EntityManager } from 'typeorm';
import { auditChainRepository, type ChainedRecord } from './audit-chain.repository.js';
import { recordColumns, type AuditRecord } from './audit-record.js';
import { appendRecordLeaves } from '../transparency/merkle-store.js';
import { canonicalJson, entryHashOfCanonical, GENESIS_HASH } from './chain-hash.js';

interface ChainHead {
  sequence: number;
  hash: Buffer;
}

/**
 * The chain's head as this transaction last left it. The inbox consumer settles a whole batch of
 * events in one transaction and calls the handler once per event: the first append takes the lock
 * and reads the head, the later ones continue from here. A head is only moved after its insert
 * succeeded, so an event rolled back to its savepoint leaves the head where it was. The entry dies
 * with the transaction's EntityManager.
 */
const heads = new WeakMap<EntityManager, ChainHead>();

export interface AppendResult {
  /** Sequence numbers given to the new records, in order. */
  appended: number[];
  /** Event ids already in the log (a redelivery), left out without breaking the chain. */
  skipped: string[];
}

/**
 * Appends records to the chain in `transaction`, in the order given. One writer at a time across
 * every replica (a transaction-level advisory lock, held until commit), so sequence numbers are
 * gapless and each record's `previousHash` is the hash of the record committed before it. An
 * event id already in the log, or repeated within `records`, is skipped.
 */
export async function appendToChain(
  transaction: EntityManager,
  records: readonly AuditRecord[],
): Promise<AppendResult> {
  if (!transaction.queryRunner?.isTransactionActive) {
    throw new Error('appendToChain needs a transaction: the chain lock is held until it commits');
  }
  if (records.length === 0) return { appended: [], skipped: [] };
  // Canonicalised before the lock: the text does not depend on the record's place in the chain,
  // and every other batch waits for this one while the lock is held.
  const texts = records.map((record) => canonicalJson(record));
  let head = heads.get(transaction);
  if (!head) {
    await auditChainRepository.lockForAppend(transaction);
    const stored = await auditChainRepository.head(transaction);
    head = stored ?? { sequence: 0, hash: Buffer.from(GENESIS_HASH, 'hex') };
  }
  const eventIds = records.map((record) => recordColumns(record).eventId);
  const seen = await auditChainRepository.existingEventIds(transaction, eventIds);
  const skipped: string[] = [];
  const chained: ChainedRecord[] = [];
  let { sequence, hash } = head;
  for (const [index, record] of records.entries()) {
    const eventId = record.metadata.uid;
    if (seen.has(eventId)) {
      skipped.push(eventId);
      continue;
    }
    seen.add(eventId);
    const previousHash = hash;
    sequence += 1;
    const recordJson = texts[index]!;
    hash = entryHashOfCanonical(sequence, previousHash.toString('hex'), recordJson);
    chained.push({ sequence, record, recordJson, previousHash, hash });
  }
  await auditChainRepository.insert(transaction, chained);
  await appendRecordLeaves(transaction, head.sequence, chained);
  heads.set(transaction, { sequence, hash });
  return { appended: chained.map((entry) => entry.sequence), skipped };
}
