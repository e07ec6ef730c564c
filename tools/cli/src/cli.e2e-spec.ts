import { describe, expect, it, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ed25519NoteSigner,
  leafHash,
  MemoryMerkleTree,
  rootHash,
  signCheckpoint,
  signNote,
  checkpointText,
  verifierKey,
} from '@rampart/audit';

const ORIGIN = 'rampart.example/audit';
const REPOSITORY = resolve(import.meta.dirname, '../../..');

/** `npx rampart <args>` from the repository root, as an operator runs it after `npm ci`. */
function rampart(...args: string[]) {
  const result = spawnSync('npx', ['--no-install', 'rampart', ...args], {
    cwd: REPOSITORY,
    encoding: 'utf8',
    env: process.env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npx rampart', () => {
  const log = generateKeyPairSync('ed25519');
  const witness = generateKeyPairSync('ed25519');
  const logKey = verifierKey(ORIGIN, log.publicKey);
  const witnessKey = verifierKey('witness.example', witness.publicKey);
  const tree = new MemoryMerkleTree();
  for (let i = 0; i < 42; i += 1) tree.appendLeafHash(leafHash(Buffer.from(`record ${i}`)));
  const checkpoint = {
    origin: ORIGIN,
    size: 42,
    root: rootHash(tree),
    time: new Date('2026-11-28T13:00:00.000Z'),
  };
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'rampart-cli-'));
  });

  it('lists its commands, and says how it was misused', () => {
    const help = rampart('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('rampart audit checkpoint <file> --key <verifier key>');
    const unknown = rampart('audit', 'shred');
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain('unknown command "audit shred"');
    expect(rampart('audit', 'checkpoint', 'some-file').status).toBe(64);
    const badKey = rampart('audit', 'checkpoint', 'some-file', '--key', 'not-a-key');
    expect(badKey.status).toBe(64);
    expect(badKey.stderr).toContain('a verifier key is <name>+<hex key id>+<base64 key>');
  });

  it('verifies a signed checkpoint and prints what it commits to', async () => {
    const file = join(folder, 'checkpoint');
    await writeFile(
      file,
      await signCheckpoint(checkpoint, ed25519NoteSigner(ORIGIN, log.privateKey)),
    );
    const verified = rampart('audit', 'checkpoint', file, '--key', logKey);
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    expect(verified.stdout).toBe(
      `valid checkpoint of ${ORIGIN}\n` +
        `  tree size  42\n` +
        `  root hash  ${checkpoint.root.toString('hex')}\n` +
        `  signed at  2026-11-28T13:00:00.000Z\n` +
        `  signed by  ${ORIGIN}\n`,
    );
  });

  it('names the witnesses whose co-signatures it could check', async () => {
    const file = join(folder, 'witnessed');
    await writeFile(
      file,
      await signNote(checkpointText(checkpoint), [
        ed25519NoteSigner(ORIGIN, log.privateKey),
        ed25519NoteSigner('witness.example', witness.privateKey),
      ]),
    );
    const verified = rampart('audit', 'checkpoint', file, '--key', logKey, '--key', witnessKey);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(
      /signed by {2}(rampart\.example\/audit, witness\.example|witness\.example, rampart\.example\/audit)\n/,
    );
  });

  it('exits 1 on a forged checkpoint, and 66 on a file it cannot read', async () => {
    const file = join(folder, 'forged');
    const note = await signCheckpoint(checkpoint, ed25519NoteSigner(ORIGIN, log.privateKey));
    await writeFile(file, note.replace('\n42\n', '\n41\n'));
    const forged = rampart('audit', 'checkpoint', file, '--key', logKey);
    expect(forged.status).toBe(1);
    expect(forged.stdout).toBe(`INVALID checkpoint ${file}: no valid signature by a known key\n`);
    const missing = rampart('audit', 'checkpoint', join(folder, 'nothing'), '--key', logKey);
    expect(missing.status).toBe(66);
    expect(missing.stderr).toContain('cannot read');
  });
});
