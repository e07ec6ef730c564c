import { parseArgs } from 'node:util';
import { CheckpointError, openNote, parseCheckpointText, parseVerifierKey } from '@rampart/audit';
import { EXIT, type Command } from '../cli.js';

/**
 * `rampart audit checkpoint <file> --key <verifier key>`: checks a signed audit checkpoint (a C2SP
 * signed note, ADR 0023) against the log's verifier key, and any witness keys given, and prints
 * what it commits to.
 */
export const auditCheckpointCommand: Command = {
  path: ['audit', 'checkpoint'],
  usage: 'audit checkpoint <file> --key <verifier key> [--key <witness key>]...',
  summary:
    "Verifies a signed audit checkpoint with the log's verifier key (and witnesses'), and prints it.",
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { key: { type: 'string', multiple: true } },
      });
    } catch (error) {
      io.err(`rampart: ${(error as Error).message}\nusage: rampart ${this.usage}\n`);
      return EXIT.usage;
    }
    const [file, ...extra] = parsed.positionals;
    const keys = parsed.values.key ?? [];
    if (!file || extra.length > 0 || keys.length === 0) {
      io.err(`usage: rampart ${this.usage}\n`);
      return EXIT.usage;
    }
    for (const key of keys) {
      try {
        parseVerifierKey(key);
      } catch (error) {
        io.err(`rampart: --key ${key}: ${(error as Error).message}\n`);
        return EXIT.usage;
      }
    }
    let note: string;
    try {
      note = await io.readFile(file);
    } catch (error) {
      io.err(`rampart: cannot read ${file}: ${(error as Error).message}\n`);
      return EXIT.noInput;
    }
    try {
      const { text, signedBy } = openNote(note, keys);
      const checkpoint = parseCheckpointText(text);
      io.out(
        `valid checkpoint of ${checkpoint.origin}\n` +
          `  tree size  ${checkpoint.size}\n` +
          `  root hash  ${checkpoint.root.toString('hex')}\n` +
          (checkpoint.time ? `  signed at  ${checkpoint.time.toISOString()}\n` : '') +
          `  signed by  ${signedBy.join(', ')}\n`,
      );
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      io.out(`INVALID checkpoint ${file}: ${error.message}\n`);
      return EXIT.invalid;
    }
  },
};
