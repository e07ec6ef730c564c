import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class AlreadyRunningError extends Error {
  constructor(
    readonly pid: number,
    lockFile: string,
  ) {
    super(
      `Rampart is already running from this folder (pid ${pid}; lock ${lockFile}). Stop it first.`,
    );
    this.name = 'AlreadyRunningError';
  }
}

/**
 * One all-in-one instance per data folder: an exclusive lock file holding our pid. A lock left by
 * a process that no longer exists is taken over.
 */
export function acquireInstanceLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(pid) && alive(pid)) throw new AlreadyRunningError(pid, lockFile);
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take the instance lock ${lockFile}`);
}
