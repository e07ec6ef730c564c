/**
 * The identity service as applications meet it: the all-in-one platform started as its own
 * process (`tools/all-in-one/dist/main.js`, as `npm start` runs it) and driven through the
 * gateway over HTTP, for a fixed time per phase, by closed loops (each keeps one request or one
 * sign-in in flight):
 * - client credentials grants (the bootstrap admin client, `client_secret_basic`, a JWT access
 *   token for its default resource),
 * - refresh grants with rotation (each loop holds its own grant and always uses the newest token),
 * - token introspection of opaque access tokens by the client they belong to,
 * - password sign-ins through the real pages (authorization request, login page, credentials
 *   form, resume: four requests and one Argon2id verification each), against the raw Argon2id
 *   verification rate at the same parameters on the same machine.
 * Not a test: run with `npx nx run bench:identity`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { verify as argon2Verify, hash as argon2Hash } from '@node-rs/argon2';
import pg from 'pg';
import { Pool } from 'undici';
import { csrfTokenOf, FormClient, type PageResponse } from '@rampart/testing';
import {
  basic,
  closedLoops,
  startPlatform,
  type PhaseResult,
  type Watched,
} from './all-in-one-under-load.js';
import { table } from './stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
/** Sign-ins in flight at once: a few per core keeps Argon2id busy while pages are served. */
const LOGINS = Number(process.env['BENCH_LOGINS'] ?? availableParallelism() * 4);
const CORES = availableParallelism();
/** Which phases run (comma-separated): cc, refresh, introspection, sign-in. */
const PHASES = new Set(
  (process.env['BENCH_PHASES'] ?? 'cc,refresh,introspection,sign-in').split(','),
);
const REDIRECT_URI = 'https://bench.example/callback';
const PASSWORD = 'bench passphrase that is long enough';

interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** Posts the password step of the login page `page`; fails loudly on anything unexpected. */
async function submitPassword(client: FormClient, page: PageResponse, username: string) {
  const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(page.body)?.[1];
  if (!action) throw new Error(`expected the login page, got ${page.status}: ${page.body}`);
  return client.post(action, {
    step: 'password',
    username,
    password: PASSWORD,
    _csrf: csrfTokenOf(page.body),
  });
}

/**
 * One password sign-in as a browser without a session makes it, for the account centre (a
 * first-party client, so there is no consent screen): the authorization request, the login page,
 * the credentials, the resume that ends at the client's redirect URI with a session cookie set.
 */
async function passwordSignIn(origin: string, username: string): Promise<boolean> {
  const client = new FormClient(origin);
  const authorize = new URL('/oidc/auth', origin);
  authorize.search = new URLSearchParams({
    client_id: 'rampart-account',
    response_type: 'none',
    redirect_uri: `${origin}/account/callback`,
    scope: 'openid',
  }).toString();
  const start = await client.get(authorize.pathname + authorize.search);
  if (start.status !== 303 || !start.location) return false;
  const page = await client.get(start.location);
  if (page.status !== 200) return false;
  const submitted = await submitPassword(client, page, username);
  if (submitted.status !== 303 || !submitted.location) return false;
  const resumed = await client.get(new URL(submitted.location, origin).pathname);
  const signedIn =
    resumed.status === 303 && resumed.location?.startsWith(`${origin}/account/callback`);
  if (!signedIn && process.env['BENCH_DEBUG']) {
    process.stderr.write(`sign-in ended with ${resumed.status} ${resumed.location}\n`);
  }
  return signedIn === true;
}

/**
 * An authorization code + PKCE sign-in with consent to `offline_access` for the bench client,
 * exchanged for tokens: the grant a refresh loop then works on.
 */
async function codeFlowTokens(
  origin: string,
  pool: Pool,
  username: string,
  clientAuth: string,
  clientId: string,
): Promise<Tokens> {
  const client = new FormClient(origin);
  const verifier = randomBytes(32).toString('base64url');
  const authorize = `/oidc/auth?${new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid offline_access',
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()}`;
  const login = await client.follow(await client.get(authorize));
  const consent = await client.follow(await submitPassword(client, login, username));
  const confirm = /action="(\/interaction\/[\w-]+\/confirm)"/.exec(consent.body)?.[1];
  if (!confirm)
    throw new Error(`expected the consent page, got ${consent.status}: ${consent.body}`);
  const back = await client.follow(
    await client.post(confirm, { _csrf: csrfTokenOf(consent.body) }),
  );
  const code = new URL(back.location!).searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.location}`);
  const response = await pool.request({
    method: 'POST',
    path: '/oidc/token',
    headers: { authorization: clientAuth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }).toString(),
  });
  const tokens = (await response.body.json()) as Tokens;
  if (response.statusCode !== 200 || !tokens.refresh_token)
    throw new Error(`code exchange failed: ${response.statusCode} ${JSON.stringify(tokens)}`);
  return tokens;
}

/** Raw Argon2id verifications per second, one loop per core, at the service's parameters. */
async function rawArgon2Rate(): Promise<PhaseResult> {
  const options = {
    algorithm: 2 as const, // Argon2id
    memoryCost: Number(process.env['IDENTITY_PASSWORD_MEMORY_KIB'] ?? 19_456),
    timeCost: Number(process.env['IDENTITY_PASSWORD_TIME_COST'] ?? 2),
    parallelism: Number(process.env['IDENTITY_PASSWORD_PARALLELISM'] ?? 1),
  };
  const stored = await argon2Hash(PASSWORD, options);
  return closedLoops(
    SECONDS,
    'raw Argon2id verify (same parameters)',
    CORES,
    async () => argon2Verify(stored, PASSWORD),
    {},
  );
}

const platform = await startPlatform();
const statistics = new pg.Client({ connectionString: platform.databaseUrl });
await statistics.connect();
const watched: Watched = { servicePid: platform.child.pid, database: statistics };
const pool = new Pool(platform.origin, { connections: Math.max(CONNECTIONS, LOGINS) });
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
try {
  const { adminClient, initialAccessToken } = platform.bootstrap;
  const adminAuth = basic(adminClient.client_id, adminClient.client_secret);
  const post = async (path: string, headers: Record<string, string>, body: string) => {
    const response = await pool.request({ method: 'POST', path, headers, body });
    return { status: response.statusCode, body: (await response.body.json()) as never };
  };

  // Setup: a confidential client for the code flow, and people provisioned by SCIM.
  const registered = await post(
    '/oidc/register',
    { authorization: `Bearer ${initialAccessToken}`, 'content-type': 'application/json' },
    JSON.stringify({
      client_name: 'Bench app',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid offline_access',
    }),
  );
  const benchClient = registered.body as { client_id: string; client_secret: string };
  if (registered.status !== 201) throw new Error(`registration: ${JSON.stringify(benchClient)}`);
  const benchAuth = basic(benchClient.client_id, benchClient.client_secret);
  const scim = await post(
    '/oidc/token',
    { authorization: adminAuth, ...formHeaders },
    'grant_type=client_credentials&scope=scim',
  );
  const scimToken = (scim.body as { access_token: string }).access_token;
  const people = Array.from({ length: Math.max(CONNECTIONS, LOGINS) }, (_, i) => `bench-${i}`);
  for (const userName of people) {
    const created = await post(
      '/scim/v2/Users',
      { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        password: PASSWORD,
        emails: [{ value: `${userName}@bench.example`, primary: true }],
        active: true,
      }),
    );
    if (created.status !== 201) throw new Error(`SCIM create: ${JSON.stringify(created.body)}`);
  }
  // One grant per refresh loop, each from a real sign-in.
  const grants: Tokens[] = [];
  for (let i = 0; i < CONNECTIONS; i += 1) {
    grants.push(
      await codeFlowTokens(platform.origin, pool, people[i]!, benchAuth, benchClient.client_id),
    );
  }

  const tokenRequest = async (authorization: string, body: string) => {
    const response = await pool.request({
      method: 'POST',
      path: '/oidc/token',
      headers: { authorization, ...formHeaders },
      body,
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return undefined;
    }
    return (await response.body.json()) as { access_token: string; refresh_token?: string };
  };
  const clientCredentials = async () =>
    (await tokenRequest(adminAuth, 'grant_type=client_credentials&scope=scim')) !== undefined;
  const refresh = async (loop: number) => {
    const tokens = await tokenRequest(
      benchAuth,
      `grant_type=refresh_token&refresh_token=${grants[loop]!.refresh_token}`,
    );
    if (!tokens?.refresh_token) return false;
    grants[loop] = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    return true;
  };
  const introspect = async (loop: number) => {
    const response = await pool.request({
      method: 'POST',
      path: '/oidc/token/introspection',
      headers: { authorization: benchAuth, ...formHeaders },
      body: `token=${grants[loop]!.access_token}&token_type_hint=access_token`,
    });
    const answer = (await response.body.json()) as { active?: boolean };
    return response.statusCode === 200 && answer.active === true;
  };

  // Warm-up: JIT, connection pools, caches.
  await closedLoops(SECONDS, 'warm-up', CONNECTIONS, clientCredentials, watched);
  const results: PhaseResult[] = [];
  if (PHASES.has('cc')) {
    results.push(
      await closedLoops(SECONDS, 'client credentials', CONNECTIONS, clientCredentials, watched),
    );
  }
  if (PHASES.has('refresh')) {
    results.push(await closedLoops(SECONDS, 'refresh (rotating)', CONNECTIONS, refresh, watched));
  }
  if (PHASES.has('introspection')) {
    results.push(await closedLoops(SECONDS, 'introspection', CONNECTIONS, introspect, watched));
  }
  let ratio = '';
  if (PHASES.has('sign-in')) {
    const signIns = await closedLoops(
      SECONDS,
      'password sign-in (4 requests)',
      LOGINS,
      (loop) => passwordSignIn(platform.origin, people[loop]!),
      watched,
    );
    const raw = await rawArgon2Rate();
    results.push(signIns, raw);
    ratio = `Sign-ins / raw Argon2id verifications: ${((signIns.opsPerSecond / raw.opsPerSecond) * 100).toFixed(0)} %\n`;
  }

  const f = (value: number | null | undefined, digits = 1) =>
    value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
  const perCore = (result: PhaseResult) => result.opsPerSecond / CORES;
  process.stdout.write(
    `\nIdentity through the gateway: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${CORES} cores, load average ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}; ${SECONDS} s per phase, ${CONNECTIONS} loops (${LOGINS} for sign-ins)\n\n` +
      table([
        [
          'phase',
          'ok',
          'errors',
          'per s',
          'per core/s',
          'p50 ms',
          'p99 ms',
          'max ms',
          'cpu ms/op',
          'db tx/op',
          'service cores',
          'postgres cores',
          'load cores',
        ],
        ...results.map((result) => [
          result.phase,
          String(result.ops),
          String(result.errors),
          f(result.opsPerSecond),
          f(perCore(result)),
          f(result.latencyMs.p50),
          f(result.latencyMs.p99),
          f(result.latencyMs.max),
          f(result.cpuMsPerOp, 2),
          f(result.commitsPerOp, 1),
          f(result.cores?.service, 2),
          f(result.cores?.postgres, 2),
          f(result.cores?.node, 2),
        ]),
      ]) +
      `\n\n${ratio}` +
      `BENCH_RESULT ${JSON.stringify({ node: process.version, cores: CORES, seconds: SECONDS, connections: CONNECTIONS, logins: LOGINS, results })}\n`,
  );
} finally {
  await statistics.end();
  await pool.close();
  await platform.stop();
}
process.exit(0);
