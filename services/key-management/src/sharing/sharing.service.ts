import { Injectable } from '@nestjs/common';
import { calculateJwkThumbprint } from 'jose';
import type { EntityManager } from 'typeorm';
import { SharedObjectEvents } from '@rampart/contracts';
import { Outbox } from '@rampart/platform';
import {
  MAX_CIPHERTEXT_BYTES,
  type PublicWrapJwk,
  type SharedObjectView,
  type WrapKeyView,
  type WrappedKey,
} from './dto/sharing.dto.js';
import {
  alreadyReader,
  ciphertextTooLarge,
  invalidInput,
  objectExists,
  objectNotFound,
  ownerOnly,
  readersMismatch,
  staleVersion,
  wrapKeyNotFound,
} from './sharing.errors.js';
import {
  SharingRepository,
  type SharedObjectRow,
  type StoredWrappedKey,
  type WrapKeyRow,
} from './sharing.repository.js';
import { wrappedKeyProblem } from './wrapped-key-check.js';

const wrapKeyView = (row: WrapKeyRow): WrapKeyView => ({
  user: row.user_id,
  publicJwk: row.public_jwk,
  fingerprint: row.fingerprint,
  updateTime: row.updated_at.toISOString(),
});

/**
 * End-to-end encrypted objects shared between users. Zero knowledge: the service receives and
 * returns ciphertext and JWEs made on users' devices; it never generates, sees or unwraps a data
 * key. What it does enforce is who gets which bytes, and that the bytes it stores are well-formed.
 */
@Injectable()
export class SharingService {
  constructor(
    private readonly repository: SharingRepository,
    private readonly outbox: Outbox,
  ) {}

  /** Registers or replaces the caller's own WRAP key (objects already shared keep their JWEs). */
  async registerWrapKey(user: string, jwk: PublicWrapJwk): Promise<WrapKeyView> {
    const fingerprint = await calculateJwkThumbprint(jwk, 'sha256');
    return wrapKeyView(await this.repository.putWrapKey(user, jwk, fingerprint));
  }

  async wrapKey(user: string): Promise<WrapKeyView> {
    const row = await this.repository.wrapKey(user);
    if (!row) throw wrapKeyNotFound(user);
    return wrapKeyView(row);
  }

  async create(
    owner: string,
    input: { id: string; ciphertext: Buffer; wrappedKeys: WrappedKey[] },
  ): Promise<SharedObjectView> {
    checkCiphertext(input.ciphertext);
    if (!input.wrappedKeys.some((key) => key.recipient === owner)) {
      throw invalidInput('wrappedKeys', 'must include a wrapped key for the owner');
    }
    await this.repository.transaction(async (transaction) => {
      const keys = await this.checkWrappedKeys(transaction, input.wrappedKeys, 'wrappedKeys');
      if (!(await this.repository.createObject(transaction, { ...input, owner }))) {
        throw objectExists(input.id);
      }
      await this.repository.addWrappedKeys(transaction, input.id, keys);
      await this.record(transaction, SharedObjectEvents.created, {
        objectId: input.id,
        owner,
        version: 1,
        recipients: keys.length,
      });
    });
    return this.read(owner, input.id);
  }

  /** The ciphertext and the caller's own wrapped key; no one else's. */
  async read(reader: string, id: string): Promise<SharedObjectView> {
    const row = await this.repository.objectFor(reader, id);
    if (!row) throw objectNotFound(id);
    return {
      ...objectView(row),
      wrappedKey: { recipient: reader, jwe: row.jwe },
      ...(row.owner === reader ? { recipients: await this.repository.readers(id) } : {}),
    };
  }

  /** Adds one reader with the current data key, wrapped to their current WRAP key. */
  async share(
    caller: string,
    id: string,
    input: { version: number } & WrappedKey,
  ): Promise<SharedObjectView> {
    await this.repository.transaction(async (transaction) => {
      const object = await this.lockOwned(transaction, caller, id, input.version);
      const readers = await this.repository.readers(id, transaction);
      if (readers.includes(input.recipient)) {
        throw alreadyReader(input.recipient, id);
      }
      const keys = await this.checkWrappedKeys(transaction, [input], 'jwe');
      await this.repository.addWrappedKeys(transaction, id, keys);
      await this.record(transaction, SharedObjectEvents.shared, {
        objectId: id,
        owner: object.owner,
        version: object.version,
        recipient: input.recipient,
        recipients: readers.length + 1,
      });
    });
    return this.read(caller, id);
  }

  /**
   * Removes a reader. The owner sends the content re-encrypted under a new data key and that key
   * wrapped for exactly the remaining readers; all of it replaces the old in one transaction, so
   * no reader is ever left with a key that does not open the stored ciphertext.
   */
  async revoke(
    caller: string,
    id: string,
    input: { version: number; recipient: string; ciphertext: Buffer; wrappedKeys: WrappedKey[] },
  ): Promise<SharedObjectView> {
    checkCiphertext(input.ciphertext);
    await this.repository.transaction(async (transaction) => {
      const object = await this.lockOwned(transaction, caller, id, input.version);
      if (input.recipient === object.owner) {
        throw readersMismatch('The owner cannot be revoked; delete the object instead.');
      }
      const readers = await this.repository.readers(id, transaction);
      if (!readers.includes(input.recipient)) {
        throw readersMismatch(`${input.recipient} cannot read ${id}.`);
      }
      const remaining = readers.filter((reader) => reader !== input.recipient);
      const given = input.wrappedKeys.map((key) => key.recipient).sort();
      if (given.join('\n') !== remaining.join('\n')) {
        throw readersMismatch(
          `wrappedKeys must be for exactly the remaining readers: ${remaining.join(', ')}.`,
        );
      }
      const keys = await this.checkWrappedKeys(transaction, input.wrappedKeys, 'wrappedKeys');
      const updated = await this.repository.replaceContent(transaction, id, input.ciphertext, keys);
      await this.record(transaction, SharedObjectEvents.revoked, {
        objectId: id,
        owner: object.owner,
        version: updated.version,
        recipient: input.recipient,
        recipients: keys.length,
      });
    });
    return this.read(caller, id);
  }

  /** The object, locked, if the caller owns it and saw its current version. */
  private async lockOwned(
    transaction: EntityManager,
    caller: string,
    id: string,
    version: number,
  ): Promise<SharedObjectRow> {
    const object = await this.repository.lockObject(transaction, id);
    if (!object) throw objectNotFound(id);
    if (object.owner !== caller) {
      // Readers learn that only the owner may share; anyone else learns nothing.
      const readers = await this.repository.readers(id, transaction);
      throw readers.includes(caller) ? ownerOnly(id) : objectNotFound(id);
    }
    if (object.version !== version) throw staleVersion(id, version, object.version);
    return object;
  }

  /** Every recipient has a WRAP key and every JWE is made for it; returns what to store. */
  private async checkWrappedKeys(
    transaction: EntityManager,
    keys: WrappedKey[],
    path: string,
  ): Promise<StoredWrappedKey[]> {
    const fingerprints = await this.repository.fingerprints(
      transaction,
      keys.map((key) => key.recipient),
    );
    return keys.map((key, index) => {
      const where = path === 'jwe' ? path : `${path}.${index}.jwe`;
      const fingerprint = fingerprints.get(key.recipient);
      if (!fingerprint) throw readersMismatch(`${key.recipient} has registered no WRAP key.`);
      const problem = wrappedKeyProblem(key.jwe, fingerprint);
      if (problem) throw invalidInput(where, problem);
      return { ...key, fingerprint };
    });
  }

  private async record(
    transaction: EntityManager,
    event: (typeof SharedObjectEvents)[keyof typeof SharedObjectEvents],
    data: {
      objectId: string;
      owner: string;
      version: number;
      recipient?: string;
      recipients: number;
    },
  ): Promise<void> {
    await this.outbox.write(transaction, event, { subject: data.objectId, data });
  }
}

/** The client library's format (0x01 | iv 12 | ciphertext | tag 16); see docs/adr/0013. */
const SEALED_FORMAT = 0x01;
const SEALED_OVERHEAD = 1 + 12 + 16;

/**
 * The service cannot tell ciphertext from plaintext, but it can refuse what is not even shaped
 * like the library's output, which catches a client that forgot to seal.
 */
function checkCiphertext(ciphertext: Buffer): void {
  if (ciphertext.length > MAX_CIPHERTEXT_BYTES) throw ciphertextTooLarge(MAX_CIPHERTEXT_BYTES);
  if (ciphertext.length < SEALED_OVERHEAD || ciphertext[0] !== SEALED_FORMAT) {
    throw invalidInput('ciphertext', 'is not sealed content (format 1: iv, ciphertext, tag)');
  }
}

function objectView(row: SharedObjectRow) {
  return {
    id: row.id,
    owner: row.owner,
    version: row.version,
    ciphertext: row.ciphertext.toString('base64'),
    updateTime: row.updated_at.toISOString(),
  };
}
