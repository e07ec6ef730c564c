import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_BYTES } from './merkle-tree.js';

/**
 * Signed checkpoints in the formats transparency logs and their witnesses share: the C2SP
 * `tlog-checkpoint` text (origin, tree size, base64 root hash) inside a C2SP `signed-note`
 * (the text, a blank line, one `— <key name> <base64(key id || signature)>` line per signature).
 * A witness or auditor can check Rampart's audit checkpoints with the same tools it uses for
 * Go's checksum database, Sigstore or Tessera logs, and co-sign them by adding a line.
 */
export interface Checkpoint {
  /** The log's unique name, for example `rampart.example.com/audit`. */
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  /**
   * When the log signed it, to the millisecond: an extension line `time <ISO 8601>`, under the
   * signature like the rest. Witnesses ignore extension lines; this log's verifiers read it.
   */
  readonly time?: Date;
}

const TIME_LINE = /^time (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** The signature type byte of an Ed25519 key in a signed note. */
const ED25519 = 0x01;
const SIGNATURE_LINE_PREFIX = '\u2014 ';

/** A key name or origin: non-empty, no whitespace, no `+` (it separates a verifier key's parts). */
function checkName(kind: string, name: string): void {
  if (name === '' || /[\s+]/u.test(name)) {
    throw new CheckpointError(`${kind} must be non-empty, without spaces, newlines or '+'`);
  }
}

export function checkpointText({ origin, size, root, time }: Checkpoint): string {
  checkName('the origin', origin);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new CheckpointError('the tree size must be a non-negative integer');
  }
  if (root.length !== HASH_BYTES) throw new CheckpointError('the root hash must be 32 bytes');
  if (time !== undefined && Number.isNaN(time.getTime())) {
    throw new CheckpointError('the time must be a valid date');
  }
  const timeLine = time === undefined ? '' : `time ${time.toISOString()}\n`;
  return `${origin}\n${size}\n${root.toString('base64')}\n${timeLine}`;
}

/** Reads a checkpoint's text; extension lines other than `time` are ignored. */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') {
    throw new CheckpointError('a checkpoint is at least three lines, each ending in a newline');
  }
  const [origin, size, root] = lines as [string, string, string];
  checkName('the origin', origin);
  if (!/^(0|[1-9]\d*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new CheckpointError('the tree size must be decimal without leading zeros');
  }
  const hash = Buffer.from(root, 'base64');
  if (hash.length !== HASH_BYTES || hash.toString('base64') !== root) {
    throw new CheckpointError('the root hash must be the standard base64 of 32 bytes');
  }
  const extensions = lines.slice(3, -1);
  if (extensions.some((line) => line === '')) {
    throw new CheckpointError('a checkpoint has no empty lines');
  }
  const timeLines = extensions.filter((line) => line.startsWith('time '));
  if (timeLines.length > 1) throw new CheckpointError('a checkpoint has one time at most');
  const time = timeLines[0] === undefined ? undefined : TIME_LINE.exec(timeLines[0])?.[1];
  if (timeLines.length === 1 && (time === undefined || Number.isNaN(Date.parse(time)))) {
    throw new CheckpointError('the time line is `time <ISO 8601 UTC with milliseconds>`');
  }
  return { origin, size: Number(size), root: hash, ...(time ? { time: new Date(time) } : {}) };
}

/** The 4-byte key id of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || public key)[:4]. */
export function noteKeyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The raw 32 bytes of an Ed25519 public key. */
function rawEd25519(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new CheckpointError('an Ed25519 key is needed');
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
}

/** Who signs a note: its key name and a function that signs with the key (here or in the KMS). */
export interface NoteSigner {
  readonly name: string;
  readonly publicKey: KeyObject;
  sign(message: Buffer): Promise<Buffer>;
}

export function ed25519NoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  checkName('the key name', name);
  const publicKey = createPublicKey(privateKey);
  rawEd25519(publicKey);
  return { name, publicKey, sign: (message) => Promise.resolve(sign(null, message, privateKey)) };
}

/**
 * The verifier key string witnesses and verifiers are configured with:
 * `<name>+<hex key id>+<base64(0x01 || public key)>`.
 */
export function verifierKey(name: string, publicKey: KeyObject): string {
  checkName('the key name', name);
  const raw = rawEd25519(publicKey);
  return `${name}+${noteKeyId(name, raw).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`;
}

interface NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

export function parseVerifierKey(key: string): NoteVerifier {
  // The base64 key may itself hold '+': only the first two separate the parts.
  const first = key.indexOf('+');
  const second = key.indexOf('+', first + 1);
  const [name, id, encoded] = [
    key.slice(0, first),
    key.slice(first + 1, second),
    key.slice(second + 1),
  ];
  if (first < 0 || second < 0 || !name || !id || !encoded) {
    throw new CheckpointError('a verifier key is <name>+<hex key id>+<base64 key>');
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) {
    throw new CheckpointError('only Ed25519 verifier keys are supported');
  }
  const raw = bytes.subarray(1);
  const keyId = noteKeyId(name, raw);
  if (keyId.toString('hex') !== id) throw new CheckpointError('the key id does not match the key');
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return { name, keyId, publicKey };
}

/** Signs `text` (which ends in a newline) as a note with every signer. */
export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  if (!text.endsWith('\n') || text.includes('\n\n')) {
    throw new CheckpointError('a note text ends in a newline and has no empty lines');
  }
  const message = Buffer.from(text, 'utf8');
  const lines = await Promise.all(
    signers.map(async (signer) => {
      const keyId = noteKeyId(signer.name, rawEd25519(signer.publicKey));
      const signature = await signer.sign(message);
      return `${SIGNATURE_LINE_PREFIX}${signer.name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
    }),
  );
  return `${text}\n${lines.join('')}`;
}

/**
 * Opens a signed note: its text and the names of the known keys whose signatures on it are valid.
 * Refuses a note without at least one valid signature by a known key; signatures by unknown keys
 * (a witness's co-signature, say) are allowed and skipped.
 */
export function openNote(
  note: string,
  verifierKeys: readonly string[],
): { text: string; signedBy: string[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CheckpointError('not a signed note');
  const text = note.slice(0, split + 1);
  const message = Buffer.from(text, 'utf8');
  const verifiers = verifierKeys.map(parseVerifierKey);
  const signedBy = new Set<string>();
  for (const line of note.slice(split + 2, -1).split('\n')) {
    if (!line.startsWith(SIGNATURE_LINE_PREFIX)) {
      throw new CheckpointError('a signature line starts with an em dash and a space');
    }
    const [name, encoded, ...rest] = line.slice(SIGNATURE_LINE_PREFIX.length).split(' ');
    if (!name || !encoded || rest.length > 0) throw new CheckpointError('malformed signature line');
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length < 5) throw new CheckpointError('malformed signature line');
    const verifier = verifiers.find(
      (candidate) => candidate.name === name && candidate.keyId.equals(bytes.subarray(0, 4)),
    );
    if (verifier && verify(null, message, verifier.publicKey, bytes.subarray(4))) {
      signedBy.add(name);
    }
  }
  if (signedBy.size === 0) throw new CheckpointError('no valid signature by a known key');
  return { text, signedBy: [...signedBy] };
}

/** Signs a checkpoint with the log's key (named after the origin, as witnesses expect). */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): Promise<string> {
  return signNote(checkpointText(checkpoint), [signer]);
}

/** Verifies a checkpoint signed by the log's key, and reads it. */
export function openCheckpoint(note: string, logVerifierKey: string): Checkpoint {
  const { text } = openNote(note, [logVerifierKey]);
  return parseCheckpointText(text);
}
