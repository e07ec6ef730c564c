import { execFile } from 'node:child_process';

/** True when a Docker engine answers (the client alone is not enough). */
export function dockerEngineAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['info', '--format', '{{.ServerVersion}}'],
      { timeout: 5_000 },
      (error, stdout) => resolve(!error && stdout.trim().length > 0),
    );
  });
}
