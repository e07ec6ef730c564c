import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import {
  CheckpointError,
  checkpointText,
  ed25519NoteSigner,
  openCheckpoint,
  openNote,
  parseCheckpointText,
  signCheckpoint,
  signNote,
  verifierKey,
} from './checkpoint.js';
import { leafHash, MemoryMerkleTree, rootHash } from './merkle-tree.js';

const ORIGIN = 'rampart.example/audit';

function keyPair() {
  return generateKeyPairSync('ed25519');
}

function checkpointOf(size: number) {
  const tree = new MemoryMerkleTree();
  for (let i = 0; i < size; i += 1) tree.appendLeafHash(leafHash(Buffer.from(`record ${i}`)));
  return { origin: ORIGIN, size, root: rootHash(tree) };
}

describe('checkpoints (C2SP tlog-checkpoint in a signed note)', () => {
  it('writes the three lines of the format, and reads them back', () => {
    const checkpoint = checkpointOf(20);
    const text = checkpointText(checkpoint);
    expect(text).toBe(`${ORIGIN}\n20\n${checkpoint.root.toString('base64')}\n`);
    expect(parseCheckpointText(text)).toEqual(checkpoint);
  });

  it('carries the signing time as an extension line under the signature', async () => {
    const log = keyPair();
    const time = new Date('2026-11-28T13:05:00.123Z');
    const checkpoint = { ...checkpointOf(7), time };
    const text = checkpointText(checkpoint);
    expect(text.split('\n')).toEqual([
      ORIGIN,
      '7',
      checkpoint.root.toString('base64'),
      `time ${time.toISOString()}`,
      '',
    ]);
    const note = await signCheckpoint(checkpoint, ed25519NoteSigner(ORIGIN, log.privateKey));
    const key = verifierKey(ORIGIN, log.publicKey);
    expect(openCheckpoint(note, key)).toEqual(checkpoint);
    // Moving the time breaks the signature like any other line.
    expect(() => openCheckpoint(note.replace('13:05:00', '13:06:00'), key)).toThrow(
      'no valid signature',
    );
    // Other extension lines are read past; a malformed or second time line is refused.
    expect(parseCheckpointText(`${text}other extension\n`)).toEqual(checkpoint);
    expect(() => parseCheckpointText(`${text}time 2026-11-28T13:07:00.000Z\n`)).toThrow('one time');
    expect(() => parseCheckpointText(text.replace('.123Z', 'Z'))).toThrow('time line');
  });

  it('signs as a note a witness can read: the text, a blank line, an em-dash signature line', async () => {
    const log = keyPair();
    const note = await signCheckpoint(checkpointOf(5), ed25519NoteSigner(ORIGIN, log.privateKey));
    const [text, signatures] = note.split('\n\n');
    expect(`${text}\n`).toBe(checkpointText(checkpointOf(5)));
    expect(signatures).toMatch(new RegExp(`^\u2014 ${ORIGIN} [A-Za-z0-9+/]+=*\n$`));
    // 4 bytes of key id and a 64-byte Ed25519 signature.
    expect(Buffer.from(signatures!.split(' ')[2]!, 'base64')).toHaveLength(68);
    const key = verifierKey(ORIGIN, log.publicKey);
    expect(key).toMatch(new RegExp(`^${ORIGIN}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$`));
    expect(openCheckpoint(note, key)).toEqual(checkpointOf(5));
  });

  it('refuses a forged checkpoint: another root, size or origin under the same signature', async () => {
    const log = keyPair();
    const key = verifierKey(ORIGIN, log.publicKey);
    const note = await signCheckpoint(checkpointOf(5), ed25519NoteSigner(ORIGIN, log.privateKey));
    const forgedSize = note.replace(`\n5\n`, `\n6\n`);
    const forgedRoot = note.replace(
      checkpointOf(5).root.toString('base64'),
      checkpointOf(6).root.toString('base64'),
    );
    for (const forged of [forgedSize, forgedRoot]) {
      expect(() => openCheckpoint(forged, key)).toThrow('no valid signature by a known key');
    }
    // Signed by another key under the log's name.
    const impostor = await signCheckpoint(
      checkpointOf(5),
      ed25519NoteSigner(ORIGIN, keyPair().privateKey),
    );
    expect(() => openCheckpoint(impostor, key)).toThrow('no valid signature by a known key');
  });

  it("keeps a witness's co-signature, and needs only the log's own", async () => {
    const log = keyPair();
    const witness = keyPair();
    const text = checkpointText(checkpointOf(9));
    const note = await signNote(text, [
      ed25519NoteSigner(ORIGIN, log.privateKey),
      ed25519NoteSigner('witness.example', witness.privateKey),
    ]);
    expect(openNote(note, [verifierKey(ORIGIN, log.publicKey)]).signedBy).toEqual([ORIGIN]);
    expect(
      openNote(note, [
        verifierKey(ORIGIN, log.publicKey),
        verifierKey('witness.example', witness.publicKey),
      ]).signedBy.sort(),
    ).toEqual([ORIGIN, 'witness.example'].sort());
  });

  it('refuses malformed checkpoints, names and verifier keys with a reason', () => {
    const root = checkpointOf(1).root;
    expect(() => checkpointText({ origin: 'two words', size: 1, root })).toThrow(CheckpointError);
    expect(() => checkpointText({ origin: ORIGIN, size: -1, root })).toThrow('non-negative');
    expect(() => checkpointText({ origin: ORIGIN, size: 1, root: root.subarray(1) })).toThrow(
      '32 bytes',
    );
    expect(() => parseCheckpointText(`${ORIGIN}\n01\n${root.toString('base64')}\n`)).toThrow(
      'leading zeros',
    );
    expect(() => parseCheckpointText(`${ORIGIN}\n1\n${root.toString('base64')}`)).toThrow(
      'newline',
    );
    expect(() => parseCheckpointText(`${ORIGIN}\n1\nnot-base64\n`)).toThrow('base64');
    expect(() => openNote('no signatures\n', [])).toThrow('not a signed note');
    const key = verifierKey(ORIGIN, keyPair().publicKey);
    expect(() => openNote(`${ORIGIN}\n1\nx\n\n- not a dash\n`, [key])).toThrow('em dash');
    const name = key.slice(0, key.indexOf('+'));
    const encoded = key.slice(-44); // base64 of 0x01 || the 32-byte key
    expect(() =>
      openNote(`${ORIGIN}\n\n\u2014 ${ORIGIN} AAAA\n`, [`${name}+00000000+${encoded}`]),
    ).toThrow('key id does not match');
  });
});
