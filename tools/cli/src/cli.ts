import { auditCheckpointCommand } from './commands/audit-checkpoint.js';
import { auditVerifyCommand } from './commands/audit-verify.js';

/** Where a command writes and reads; the real process's streams, or a test's. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether `err` is a terminal (progress bars go there only then). */
  readonly isTerminal: boolean;
}

export interface Command {
  /** The words that select it, e.g. `['audit', 'checkpoint']`. */
  readonly path: readonly string[];
  readonly usage: string;
  readonly summary: string;
  /** Runs with the arguments after the command's words; answers the exit code. */
  run(args: string[], io: Io): Promise<number>;
}

/** Exit codes, as sysexits(3) names them: 0 valid, 1 checked and invalid, 64 bad usage. */
export const EXIT = { ok: 0, invalid: 1, usage: 64, noInput: 66 } as const;

const COMMANDS: readonly Command[] = [auditVerifyCommand, auditCheckpointCommand];

function help(io: Io): void {
  io.out(
    'rampart: tools for operators and auditors of a Rampart installation\n\nCommands:\n' +
      COMMANDS.map((command) => `  rampart ${command.usage}\n      ${command.summary}\n`).join('') +
      '\nExit codes: 0 verified, 1 checked and found invalid, 64 wrong usage, 66 unreadable input.\n',
  );
}

/** Runs `rampart <args>`; answers the exit code. */
export async function runCli(args: readonly string[], io: Io): Promise<number> {
  if (args.length === 0 || args[0] === 'help' || args[0] === '--help' || args[0] === '-h') {
    help(io);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.path.every((word, i) => args[i] === word));
  if (!command) {
    io.err(`rampart: unknown command "${args.join(' ')}"; see \`rampart help\`\n`);
    return EXIT.usage;
  }
  return command.run(args.slice(command.path.length), io);
}
