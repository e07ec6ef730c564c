import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  canonicalJson,
  ed25519NoteSigner,
  entryHash,
  frontierOf,
  GENESIS_HASH,
  leafData,
  MemoryMerkleTree,
  rootHash,
  signCheckpoint,
  verifierKey,
} from '@rampart/audit';

const ORIGIN = 'rampart.example/audit';
const REPOSITORY = resolve(import.meta.dirname, '../../..');
const RECORDS = 12;

/** `npx rampart <args>` from the repository root, as an operator runs it after `npm ci`. */
function rampart(...args: string[]) {
  const result = spawnSync('npx', ['--no-install', 'rampart', ...args], {
    cwd: REPOSITORY,
    encoding: 'utf8',
    env: { ...process.env, RAMPART_AUDIT_VERIFIER_KEY: '' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Line {
  sequence: number;
  previousHash: string;
  hash: string;
  record: Record<string, unknown>;
}

const record = (sequence: number) => ({
  class_uid: sequence % 2 === 0 ? 3002 : 6003,
  time: Date.UTC(2026, 0, 1) + sequence * 1000,
  target: { uid: `subject-${sequence}`, type: 'login' },
  metadata: {
    uid: `event-${sequence}`,
    event_code: 'rampart.identity.login.failed',
    product: { name: 'identity', vendor_name: 'Rampart' },
    logged_time: Date.UTC(2026, 0, 1) + sequence * 1000 + 5,
  },
});

/** Lines chained like the service chains them, renumbered and relinked from `from` on. */
function chain(records: Record<string, unknown>[], from = 1, previous = GENESIS_HASH): Line[] {
  const lines: Line[] = [];
  let previousHash = previous;
  records.forEach((content, offset) => {
    const sequence = from + offset;
    const hash = entryHash(sequence, previousHash, content).toString('hex');
    lines.push({ sequence, previousHash, hash, record: content });
    previousHash = hash;
  });
  return lines;
}

const ndjson = (lines: unknown[]) => lines.map((line) => `${JSON.stringify(line)}\n`).join('');

describe('npx rampart audit verify --file', () => {
  const log = generateKeyPairSync('ed25519');
  const forger = generateKeyPairSync('ed25519');
  const logKey = verifierKey(ORIGIN, log.publicKey);
  const lines = chain(Array.from({ length: RECORDS }, (_, index) => record(index + 1)));
  const tree = new MemoryMerkleTree();
  for (const line of lines) {
    tree.append(
      leafData(line.sequence, Buffer.from(line.previousHash, 'hex'), canonicalJson(line.record)),
    );
  }
  const checkpoint = (size: number, key = log.privateKey, root = rootHash(tree, size)) =>
    signCheckpoint(
      { origin: ORIGIN, size, root, time: new Date('2026-11-28T13:00:00.000Z') },
      ed25519NoteSigner(ORIGIN, key),
    );
  let folder: string;
  let header: string;

  const write = async (name: string, text: string) => {
    const file = join(folder, name);
    await writeFile(file, text);
    return file;
  };
  /** An export with proofs=true from the first record: two checkpoint lines, then the records. */
  const exportFile = (name: string, records: unknown[]) => write(name, header + ndjson(records));

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'rampart-cli-file-'));
    header = ndjson([
      { checkpoint: { size: 6, note: await checkpoint(6) } },
      { checkpoint: { size: RECORDS, note: await checkpoint(RECORDS) } },
    ]);
  });

  it('passes an export, with its checkpoints and their signatures, and a plain SIEM export', async () => {
    const verified = rampart(
      'audit',
      'verify',
      '--file',
      await exportFile('ok.ndjson', lines),
      '--key',
      logKey,
    );
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toBe(
      `chain: valid, ${RECORDS} records, head ${lines.at(-1)!.hash}\n` +
        `merkle tree: valid, ${RECORDS} leaves, root ${rootHash(tree).toString('hex')}\n` +
        `checkpoints: valid, 2 checked, latest of size ${RECORDS}, signatures checked\n`,
    );
    expect(verified.status).toBe(0);

    const plain = rampart(
      'audit',
      'verify',
      '--file',
      await write('plain.ndjson', ndjson(lines.slice(4))),
    );
    expect(plain.stdout).toContain(`chain: valid, ${RECORDS - 4} records`);
    expect(plain.stdout).toContain('merkle tree: not rebuilt, the file starts at sequence 5');
    expect(plain.status).toBe(0);
  });

  it('names the first bad sequence and what was done to it', async () => {
    const cases: [string, unknown[], string][] = [];
    const modified = structuredClone(lines);
    (modified[4]!.record['target'] as { uid: string }).uid = 'someone-else';
    cases.push(['modified', modified, 'first bad sequence 5: modified']);
    cases.push([
      'deleted',
      lines.filter((line) => line.sequence !== 5),
      'first bad sequence 5: deleted',
    ]);
    const swapped = [...lines];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    cases.push(['lines swapped', swapped, 'first bad sequence 4: reordered']);
    // The two records exchanged and renumbered, each keeping its own hash and link.
    const renumbered = lines.map((line) => ({ ...line }));
    renumbered[3] = { ...lines[4]!, sequence: 4 };
    renumbered[4] = { ...lines[3]!, sequence: 5 };
    cases.push(['renumbered swap', renumbered, 'first bad sequence 4: reordered']);
    // A record slipped in after 4 with a correct hash; the rest renumbered, hashes kept.
    const forged = chain([record(99)], 5, lines[3]!.hash)[0]!;
    const inserted = [
      ...lines.slice(0, 4),
      forged,
      ...lines.slice(4).map((line) => ({ ...line, sequence: line.sequence + 1 })),
    ];
    cases.push(['inserted', inserted, 'first bad sequence 5: inserted']);

    for (const [name, records, expected] of cases) {
      const run = rampart(
        'audit',
        'verify',
        '--file',
        await exportFile(`${name}.ndjson`, records),
        '--key',
        logKey,
      );
      expect({ name, chain: run.stdout.split('\n')[0] }).toEqual({
        name,
        chain: `chain: INVALID, ${expected}`,
      });
      expect({ name, status: run.status }).toEqual({ name, status: 1 });
    }
  });

  it('catches a forged checkpoint: by its signature with the key, by its root without', async () => {
    const otherRoot = createHash('sha256').update('another log').digest();
    const forgedHeader = ndjson([
      { checkpoint: { size: 6, note: await checkpoint(6, forger.privateKey, otherRoot) } },
      { checkpoint: { size: RECORDS, note: await checkpoint(RECORDS) } },
    ]);
    const file = await write('forged.ndjson', forgedHeader + ndjson(lines));
    const withKey = rampart('audit', 'verify', '--file', file, '--key', logKey);
    expect(withKey.stdout).toContain(`chain: valid, ${RECORDS} records`);
    expect(withKey.stdout).toContain('checkpoints: INVALID, first bad size 6: signature\n');
    expect(withKey.status).toBe(1);
    const withoutKey = rampart('audit', 'verify', '--file', file);
    expect(withoutKey.stdout).toContain('checkpoints: INVALID, first bad size 6: root\n');
    expect(withoutKey.status).toBe(1);
  });

  it('verifies an archive bundle against its checkpoint, and refuses one whose log was changed', async () => {
    const archive = join(folder, 'seq-7-12');
    await mkdir(archive);
    const edge = frontierOf(6).map(({ level, index }) =>
      tree.perfect(level, index).toString('hex'),
    );
    const log = ndjson([
      { frontier: { size: 6, hashes: edge } },
      { checkpoint: { size: RECORDS, note: await checkpoint(RECORDS) } },
      ...lines.slice(6),
    ]);
    await writeFile(join(archive, 'log.ndjson'), log);
    const manifest = {
      format: 'rampart-audit-archive/1',
      id: 'seq-7-12',
      firstSequence: 7,
      lastSequence: RECORDS,
      checkpointSize: RECORDS,
      sha256: createHash('sha256').update(log).digest('hex'),
      createdAt: '2026-11-28T13:00:00.000Z',
    };
    await writeFile(join(archive, 'manifest.json'), JSON.stringify(manifest));
    const verified = rampart('audit', 'verify', '--file', archive, '--key', logKey);
    expect(verified.stdout).toBe(
      `chain: valid, 6 records, head ${lines.at(-1)!.hash}\n` +
        `merkle tree: valid, ${RECORDS} leaves, root ${rootHash(tree).toString('hex')}\n` +
        `checkpoints: valid, 1 checked, latest of size ${RECORDS}, signatures checked\n` +
        `archive: valid, seq-7-12, sequences 7 to ${RECORDS}\n`,
    );
    expect(verified.status).toBe(0);

    // The first archived record cut out: the chain starts after the frontier, so it is missed.
    const cut = join(folder, 'cut');
    await cp(archive, cut, { recursive: true });
    const text = await readFile(join(cut, 'log.ndjson'), 'utf8');
    await writeFile(
      join(cut, 'log.ndjson'),
      text
        .split('\n')
        .filter((line) => !line.startsWith('{"sequence":7,'))
        .join('\n'),
    );
    const refused = rampart('audit', 'verify', '--file', cut, '--key', logKey);
    expect(refused.stdout).toContain('chain: INVALID, first bad sequence 7: deleted\n');
    expect(refused.stdout).toContain(
      `checkpoints: INVALID, first bad size ${RECORDS}: beyond-log\n`,
    );
    expect(refused.stdout).toContain('archive: INVALID, digest\n');
    expect(refused.status).toBe(1);
  });

  it('refuses a file that is not an export (66), and --file with --database-url (64)', async () => {
    const notExport = rampart('audit', 'verify', '--file', await write('text.ndjson', 'hello\n'));
    expect(notExport.status).toBe(66);
    expect(notExport.stderr).toContain('is not an audit export or archive: line 1: not JSON');
    expect(rampart('audit', 'verify', '--file', join(folder, 'missing')).status).toBe(66);
    expect(
      rampart('audit', 'verify', '--file', 'x', '--database-url', 'postgres://localhost/x').status,
    ).toBe(64);
  });
});
