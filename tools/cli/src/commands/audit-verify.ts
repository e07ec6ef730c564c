import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ExportFileError,
  fileLines,
  parseVerifierKey,
  verifyArchiveDirectory,
  verifyChain,
  verifyExportFile,
  verifyTree,
  type ArchiveVerifyResult,
  type ExportFileResult,
  type TreeVerifyResult,
  type VerifyResult,
} from '@rampart/audit';
import { createServiceDataSource } from '@rampart/platform';
import { EXIT, type Command, type Io } from '../cli.js';

/** Where the audit log is when neither option says: the environment an operator's shell has. */
const DATABASE_URL_VARIABLE = 'RAMPART_AUDIT_DATABASE_URL';
/** The log's checkpoint verifier key (`GET /audit/v1/checkpoints/latest` names it). */
const VERIFIER_KEY_VARIABLE = 'RAMPART_AUDIT_VERIFIER_KEY';

/** An error PostgreSQL answered with: a five-character SQLSTATE and a message. */
function isDatabaseError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && /^[0-9A-Z]{5}$/.test((error as { code?: string }).code ?? '');
}

/**
 * What went wrong with the database, for the operator: PostgreSQL's own message and SQLSTATE (it
 * names roles and objects, never the password), or only the error code of a failed connection,
 * whose message could carry the connection string.
 */
function databaseProblem(error: unknown, fallback: string): string {
  if (isDatabaseError(error)) return `the audit database refused: ${error.message} (${error.code})`;
  return `${fallback} (${(error as { code?: string }).code ?? 'no error code'})`;
}

/** A progress bar on a terminal; nothing when the output is a file or a pipe. */
function progressBar(io: Io): ((checked: number, total: number) => void) | undefined {
  if (!io.isTerminal) return undefined;
  let last = -1;
  return (checked, total) => {
    const share = total === 0 ? 1 : Math.min(1, checked / total);
    const percent = Math.floor(share * 100);
    if (percent === last) return;
    last = percent;
    const width = 30;
    const filled = Math.round(share * width);
    io.err(
      `\rverifying [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}% ${checked}/${total}`,
    );
    if (checked >= total) io.err('\n');
  };
}

/** The chain's line, the same from the database and from a file. */
function chainLine(chain: VerifyResult): string {
  if (!chain.valid) {
    return `chain: INVALID, first bad sequence ${chain.firstBadSequence}: ${chain.problem}\n`;
  }
  const pruned = chain.pruned > 0 ? ` (${chain.pruned} pruned, held by archives)` : '';
  return `chain: valid, ${chain.records} records${pruned}, head ${chain.head}\n`;
}

function checkpointsLine(checkpoints: TreeVerifyResult['checkpoints']): string {
  return checkpoints.valid
    ? `checkpoints: valid, ${checkpoints.checked} checked` +
        (checkpoints.latestSize === null ? '' : `, latest of size ${checkpoints.latestSize}`) +
        (checkpoints.signaturesChecked
          ? ', signatures checked\n'
          : `, signatures NOT checked (give --key or ${VERIFIER_KEY_VARIABLE})\n`)
    : `checkpoints: INVALID, first bad size ${checkpoints.firstBadSize}: ${checkpoints.problem}\n`;
}

/**
 * `--file`: an export (`GET /audit/v1/export`, with or without `proofs=true`) or an archive
 * bundle's directory, streamed; the same three lines as the database mode, and for an archive a
 * fourth about the bundle itself.
 */
async function verifyFile(path: string, verifierKey: string | undefined, io: Io): Promise<number> {
  let directory: boolean;
  let size: number;
  try {
    directory = (await stat(path)).isDirectory();
    size = (await stat(directory ? join(path, 'log.ndjson') : path)).size;
  } catch (error) {
    io.err(`rampart: cannot read ${path} (${(error as { code?: string }).code ?? 'error'})\n`);
    return EXIT.noInput;
  }
  const bar = progressBar(io);
  let read = 0;
  const onLine = bar
    ? (bytes: number) => {
        read += bytes;
        bar(Math.min(read, size), size);
      }
    : undefined;
  let result: ExportFileResult;
  let bundle: ArchiveVerifyResult | undefined;
  try {
    const options = { verifierKey, ...(onLine ? { onLine } : {}) };
    if (directory) result = bundle = await verifyArchiveDirectory(path, options);
    else result = await verifyExportFile(fileLines(path), options);
  } catch (error) {
    if (error instanceof ExportFileError) {
      io.err(`rampart: ${path} is not an audit export or archive: ${error.message}\n`);
    } else {
      io.err(
        `rampart: cannot read ${directory ? 'the archive' : 'the file'} ${path} ` +
          `(${(error as { code?: string }).code ?? (error as Error).message})\n`,
      );
    }
    return EXIT.noInput;
  }
  if (bar && read < size) bar(size, size);
  const { chain, merkle, checkpoints } = result;
  io.out(chainLine(chain));
  io.out(
    merkle.checked
      ? `merkle tree: valid, ${merkle.leaves} leaves, root ${merkle.root}\n`
      : `merkle tree: not rebuilt, the file starts at sequence ${merkle.firstSequence} without the tree's frontier (export it with proofs=true)\n`,
  );
  io.out(checkpointsLine(checkpoints));
  let bundleValid = true;
  if (bundle) {
    const { archive, manifest } = bundle;
    bundleValid = archive.valid;
    io.out(
      archive.valid && manifest
        ? `archive: valid, ${manifest.id}, sequences ${manifest.firstSequence} to ${manifest.lastSequence}\n`
        : `archive: INVALID, ${archive.valid ? 'manifest' : archive.problem}\n`,
    );
  }
  return chain.valid && checkpoints.valid && bundleValid ? EXIT.ok : EXIT.invalid;
}

/**
 * `rampart audit verify`: walks the audit log's hash chain in the database, in sequence order and
 * in one snapshot, and reports the first bad sequence number and what is wrong with it; then
 * rebuilds the Merkle tree from the records against the stored tree, and checks every stored
 * checkpoint's root and (given the log's verifier key) its signature.
 */
export const auditVerifyCommand: Command = {
  path: ['audit', 'verify'],
  usage: `audit verify [--database-url <url> | --file <export.ndjson | archive dir>] [--key <verifier key>] [--schema <name>] [--batch-size <n>]`,
  summary:
    `Verifies the audit log in PostgreSQL, or an export or archive of it: its hash chain, its ` +
    `Merkle tree and its signed checkpoints (connection from --database-url or ` +
    `${DATABASE_URL_VARIABLE}, the log's key from --key or ${VERIFIER_KEY_VARIABLE}; schema ` +
    `default audit), with a progress bar on a terminal.`,
  async run(args, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          'database-url': { type: 'string' },
          file: { type: 'string' },
          key: { type: 'string' },
          schema: { type: 'string', default: 'audit' },
          'batch-size': { type: 'string', default: '1000' },
        },
      }));
    } catch (error) {
      io.err(`rampart: ${(error as Error).message}\nusage: rampart ${this.usage}\n`);
      return EXIT.usage;
    }
    const verifierKey = values.key ?? (io.env[VERIFIER_KEY_VARIABLE] || undefined);
    if (verifierKey !== undefined) {
      try {
        parseVerifierKey(verifierKey);
      } catch (error) {
        io.err(`rampart: --key: ${(error as Error).message}\n`);
        return EXIT.usage;
      }
    }
    if (values.file !== undefined) {
      if (values['database-url'] !== undefined) {
        io.err(`rampart: give --file or --database-url, not both\nusage: rampart ${this.usage}\n`);
        return EXIT.usage;
      }
      return verifyFile(values.file, verifierKey, io);
    }
    const url = values['database-url'] ?? io.env[DATABASE_URL_VARIABLE];
    const batchSize = Number(values['batch-size']);
    if (!url || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
      io.err(
        `rampart: give the audit database as --database-url or ${DATABASE_URL_VARIABLE} (or a ` +
          `file as --file), and --batch-size as a whole number from 1 to 100000\n` +
          `usage: rampart ${this.usage}\n`,
      );
      return EXIT.usage;
    }
    if (!/^[a-z_][a-z0-9_]*$/.test(values.schema)) {
      io.err('rampart: --schema is a PostgreSQL schema name (lower case, digits, underscores)\n');
      return EXIT.usage;
    }
    const dataSource = createServiceDataSource({
      url,
      schema: values.schema,
      migrations: [],
      poolSize: 1,
      applicationName: 'rampart-cli-audit-verify',
    });
    try {
      await dataSource.initialize();
    } catch (error) {
      io.err(`rampart: ${databaseProblem(error, 'cannot connect to the audit database')}\n`);
      return EXIT.noInput;
    }
    try {
      const onProgress = progressBar(io);
      let chain;
      let tree;
      try {
        chain = await verifyChain(dataSource, {
          batchSize,
          ...(onProgress ? { onProgress } : {}),
        });
        tree = await verifyTree(dataSource, { batchSize, verifierKey });
      } catch (error) {
        if (!isDatabaseError(error)) throw error;
        io.err(
          error.code === '42P01'
            ? `rampart: there is no audit log in schema ${values.schema}\n`
            : `rampart: ${databaseProblem(error, 'the audit database failed')}\n`,
        );
        return EXIT.noInput;
      }
      io.out(chainLine(chain));
      const { merkle, checkpoints } = tree;
      io.out(
        merkle.valid
          ? `merkle tree: valid, ${merkle.leaves} leaves, root ${merkle.root}\n`
          : `merkle tree: INVALID, subtree ${merkle.index} at level ${merkle.level}: ${merkle.problem}\n`,
      );
      io.out(checkpointsLine(checkpoints));
      return chain.valid && merkle.valid && checkpoints.valid ? EXIT.ok : EXIT.invalid;
    } finally {
      await dataSource.destroy();
    }
  },
};
