import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@rampart/testing';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const launcher = join(root, 'tools/all-in-one/dist/main.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [file],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (_e, _o, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

/** The built launcher as `npm start` runs it: a real process, real signals. */
describe('npm start (the built launcher)', () => {
  it('comes up within 30 s, refuses a second instance, and stops everything on Ctrl-C', async () => {
    const home = await mkdtemp(join(tmpdir(), 'rampart-launch-'));
    const env = {
      RAMPART_HOME: home,
      RAMPART_PORT: String(21_000 + randomInt(0, 400) * 10),
      RAMPART_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
    };
    const child = spawn(process.execPath, [launcher], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      const started = Date.now();
      while (
        !output.includes('ready in') &&
        Date.now() - started < 30_000 &&
        child.exitCode === null
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toMatch(
        /ready in [\d.]+s at http:\/\/localhost:\d+ \(identity, authorization, key-management, consent, audit, gateway\)/,
      );
      expect(output).toContain('administrator and admin client credentials written to');
      // The file holds what an operator needs once; the console shows where, never the secrets.
      const bootstrap = JSON.parse(readFileSync(join(home, 'bootstrap.json'), 'utf8')) as {
        issuer: string;
        admin: { username: string; password: string };
        adminClient: { client_id: string; client_secret: string; scope: string };
        initialAccessToken: string;
      };
      expect(bootstrap).toMatchObject({
        issuer: `http://localhost:${env.RAMPART_PORT}`,
        admin: { username: 'admin', password: expect.stringMatching(/^[\w-]{24}$/) },
        adminClient: { client_id: expect.any(String), client_secret: expect.any(String) },
        initialAccessToken: expect.any(String),
      });
      expect(bootstrap.adminClient.scope.split(' ')).toContain('scim');
      for (const secret of [
        bootstrap.admin.password,
        bootstrap.adminClient.client_secret,
        bootstrap.initialAccessToken,
      ]) {
        expect(output).not.toContain(secret);
      }

      const second = await run(launcher, env);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/already running .*pid \d+/);

      const postgresPid = Number.parseInt(
        readFileSync(join(home, 'postgres/postmaster.pid'), 'utf8'),
        10,
      );
      expect(alive(postgresPid)).toBe(true);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('[rampart] stopped');
      expect(alive(postgresPid)).toBe(false);
      expect(existsSync(join(home, 'rampart.lock'))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it.each(['identity', 'authorization', 'key-management', 'consent', 'audit', 'gateway'])(
    '%s on its own exits 78 and names the missing variables',
    async (service) => {
      const result = await run(join(root, `services/${service}/dist/main.js`), {
        DATABASE_URL: '',
        PORT: '',
        WORKLOAD_KEY_FILE: '',
        WORKLOAD_TRUST_DIR: '',
      });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(`Invalid configuration for ${service}`);
      expect(result.stderr).toContain('WORKLOAD_KEY_FILE');
    },
  );
});

describe('npm start configuration', () => {
  it('exits 78 and names the variable when configuration is invalid', async () => {
    const result = await run(launcher, { RAMPART_PORT: 'not-a-port' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('RAMPART_PORT');
  });

  it('refuses production mode, naming RAMPART_MODE', async () => {
    const result = await run(launcher, {
      RAMPART_MODE: 'production',
      RAMPART_HOME: await mkdtemp(join(tmpdir(), 'rampart-prod-')),
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('RAMPART_MODE');
  });
});
