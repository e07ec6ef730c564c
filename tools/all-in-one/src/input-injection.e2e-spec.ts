import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { auditService } from '@rampart/audit';
import { gatewayService } from '@rampart/gateway';
import { identityService } from '@rampart/identity';
import { keyManagementService } from '@rampart/key-management';
import { RESOURCE_APIS } from '@rampart/contracts';
import { csrfTokenOf, FormClient } from '@rampart/testing';
import {
  jsonSchema,
  loadWorkloadSigner,
  WORKLOAD_ASSERTION_HEADER,
  type OpenApiRoute,
} from '@rampart/platform';
import { startPlatformUnderTest, type PlatformUnderTest } from './testing/platform-under-test.js';

interface Payload {
  name: string;
  text: string;
  /** How it goes into a URL when not simply percent-encoded: already encoded, sent as is. */
  inUrl?: string;
}

/**
 * Hostile text sent as every string input of every operation the route definitions describe:
 * path parameters, JSON body strings and query parameters. Each names what it would do if an
 * input reached a query, a header, a file path, an object key or a template unescaped.
 */
const PAYLOADS: readonly Payload[] = [
  { name: 'sql tautology', text: `' OR '1'='1` },
  { name: 'sql stacked statement', text: `x'; DROP TABLE identity.accounts; --` },
  { name: 'sql stacked, unquoted', text: '1; DROP TABLE key_management.keys' },
  { name: 'sql comment', text: `admin'--` },
  { name: 'NUL character', text: 'a\u0000b' },
  { name: 'percent-encoded NUL', text: '%00', inUrl: 'a%00b' },
  // In a URL the bytes themselves: an overlong "../" and a UTF-8-encoded surrogate, both invalid.
  { name: 'overlong UTF-8 dot-dot-slash', text: '%c0%ae%c0%ae%c0%af', inUrl: '%c0%ae%c0%ae%c0%af' },
  { name: 'lone surrogate', text: 'a\ud800b', inUrl: 'a%ed%a0%80b' },
  { name: 'path traversal', text: '../../../../etc/passwd' },
  {
    name: 'encoded path traversal',
    text: '..%2f..%2fetc%2fpasswd',
    inUrl: '..%2f..%2f..%2fetc%2fpasswd',
  },
  { name: 'CRLF header injection', text: 'x\r\nX-Injected: yes\r\n\r\n<html>' },
  {
    name: 'percent-encoded CRLF',
    text: 'x%0d%0aX-Injected:%20yes',
    inUrl: 'x%0d%0aX-Injected:%20yes',
  },
  { name: 'script tag', text: '<script>alert(1)</script>' },
  { name: 'attribute break-out', text: '"><img src=x onerror=alert(1)>' },
  { name: 'javascript: URL', text: 'javascript:alert(1)' },
  { name: 'template injection', text: '{{7*7}}${7*7}<%= 7*7 %>' },
  { name: 'NoSQL operator as text', text: '{"$ne":null}' },
  { name: 'SCIM filter break-out', text: 'x" or userName pr or userName eq "' },
  { name: 'right-to-left override and BOM', text: '\u202e\ufeffadmin' },
  { name: 'very long', text: 'A'.repeat(4_000) },
];

/** Far past every field limit, in bodies only: a URL this long is refused by HTTP itself. */
const VERY_LONG_BODY_TEXT = 'B'.repeat(20_000);

/** Filters a SCIM client might send to break out of the filter grammar or into SQL. */
const SCIM_FILTERS = [
  `userName eq "x" or 1 eq 1`,
  `userName eq "x') OR 1=1 --"`,
  `userName eq "x" or userName pr`,
  `userName co "%"`,
  `emails[value co "@" or type pr]`,
  `userName eq "${'('.repeat(500)}"`,
  `${'not ('.repeat(200)}userName pr${')'.repeat(200)}`,
  `meta.lastModified gt "2000-01-01T00:00:00Z" and password pr`,
];

/** The query parameters of SCIM's list operations, which SCIM's own parser reads (ADR 0018). */
const SCIM_LIST_QUERY = [
  'filter',
  'startIndex',
  'count',
  'sortBy',
  'sortOrder',
  'attributes',
  'excludedAttributes',
];

/**
 * Query parameters of operations whose route definitions do not declare them as a schema. A
 * route with a query schema is read from that schema instead.
 */
const UNDECLARED_QUERIES: Readonly<Record<string, readonly string[]>> = {
  listUsers: SCIM_LIST_QUERY,
  listGroups: SCIM_LIST_QUERY,
};

/** The API (resource indicator path and scopes) each prefix's access tokens are for. */
const APIS = RESOURCE_APIS.map((api) => ({
  prefix: `${api.path}/`,
  resource: api.path,
  scope: api.scopes.join(' '),
}));

/** Services whose routes take input; authorization and consent have no routes of their own yet. */
const SERVICES = [identityService, keyManagementService, auditService, gatewayService];

/** Request objects that keep unknown properties by design (strict-request-schemas.spec.ts). */
const TOLERATES_UNKNOWN = (route: OpenApiRoute) => route.path.startsWith('/scim/v2/');

/** Signs of internals in an answer: driver errors, SQL, stack frames, file paths. */
const INTERNALS =
  /QueryFailedError|syntax error at or near|relation "|invalid byte sequence|node_modules|\bat [\w.<>]+ \(|\.[jt]s:\d+|TypeError|ReferenceError/;

type JsonSchema = Record<string, unknown>;

const inUrl = (payload: Payload) => payload.inUrl ?? encodeURIComponent(payload.text);

/** A request body shaped like the schema, with `text` in every string and valid enum values. */
function sample(schema: unknown, text: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return text;
  const node = schema as JsonSchema;
  const variants = (node['anyOf'] ?? node['oneOf']) as unknown[] | undefined;
  if (variants) {
    return sample(
      variants.find((variant) => (variant as JsonSchema)['type'] !== 'null'),
      text,
    );
  }
  if (node['const'] !== undefined) return node['const'];
  if (Array.isArray(node['enum'])) return node['enum'][0];
  switch (node['type']) {
    case 'object':
      return Object.fromEntries(
        Object.entries((node['properties'] ?? {}) as Record<string, unknown>).map(
          ([key, value]) => [key, sample(value, text)],
        ),
      );
    case 'array':
      return [sample(node['items'], text)];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return text;
  }
}

function queryNames(route: OpenApiRoute): readonly string[] {
  if (route.query) return Object.keys(jsonSchema(route.query, 'input')['properties'] ?? {});
  return UNDECLARED_QUERIES[route.operationId] ?? [];
}

interface Probe {
  route: OpenApiRoute;
  what: string;
  path: string;
  /** Already encoded for the URL. */
  query?: Record<string, string>;
  /** Raw JSON text, so keys such as `__proto__` reach the server as written. */
  body?: string;
}

interface Answer {
  probe: Probe;
  status: number;
  contentType: string;
  nosniff: boolean;
  injectedHeader: boolean;
  text: string;
}

/**
 * Every operation of every service's route definitions, sent hostile input in each place it takes
 * text, against the whole platform on real PostgreSQL through the gateway: every answer is a
 * 4xx problem (SCIM: a SCIM error) or a correct 2xx, never a 5xx, never an echo that a browser
 * would run, never a header made from input; afterwards every table is still there and no
 * object prototype was polluted.
 */
describe('hostile input against every operation', () => {
  let platform: PlatformUnderTest;
  let database: pg.Client;
  let tokens: Record<string, string>;
  let serviceUrls: Record<string, string>;
  let workloadAssertion: (audience: string) => Promise<string>;
  /** Existing resources, so that body probes get past "not found" to the body's validation. */
  const existing: Record<string, string> = {};
  const answers: Answer[] = [];
  let tablesBefore: string[];

  const tables = async () =>
    (
      await database.query<{ name: string }>(
        `SELECT schemaname || '.' || tablename AS name FROM pg_tables
          WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
      )
    ).rows.map((row) => row.name);

  async function accessToken(resource: string, scope: string): Promise<string> {
    const { client_id, client_secret } = platform.bootstrap.adminClient;
    const response = await fetch(`${platform.issuer}/oidc/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: `${platform.issuer}${resource}`,
        scope,
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** Sends a probe as its route's security asks: a token through the gateway, or a workload. */
  async function send(probe: Probe): Promise<Answer> {
    const { route } = probe;
    const owner = SERVICES.find((service) => service.routes.includes(route))!;
    const headers: Record<string, string> = {};
    let base = platform.issuer;
    if (route.security === 'workload') {
      // Workload-only routes are not reachable through the gateway: call the service directly.
      base = serviceUrls[owner.name]!;
      headers[WORKLOAD_ASSERTION_HEADER] = await workloadAssertion(owner.name);
    } else if (route.security && route.security !== 'public') {
      const api = APIS.find((candidate) => route.path.startsWith(candidate.prefix));
      if (api) headers['authorization'] = `Bearer ${tokens[api.prefix]}`;
    }
    if (probe.body !== undefined) {
      headers['content-type'] = route.path.startsWith('/scim/v2/')
        ? 'application/scim+json'
        : 'application/json';
    }
    const search = probe.query
      ? `?${Object.entries(probe.query)
          .map(([name, value]) => `${name}=${value}`)
          .join('&')}`
      : '';
    const response = await fetch(`${base}${probe.path}${search}`, {
      method: route.method.toUpperCase(),
      headers,
      ...(probe.body !== undefined ? { body: probe.body } : {}),
      redirect: 'manual',
    });
    return {
      probe,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      nosniff: response.headers.get('x-content-type-options') === 'nosniff',
      injectedHeader: response.headers.has('x-injected'),
      text: await response.text(),
    };
  }

  /** `route.path` with each `{parameter}` replaced: by `text` (encoded), or by a real resource. */
  function pathWith(route: OpenApiRoute, payload: Payload | undefined): string {
    return route.path.replace(/\{(\w+)\}/g, (_whole, name: string) =>
      payload === undefined ? existingFor(route, name) : inUrl(payload),
    );
  }

  function existingFor(route: OpenApiRoute, parameter: string): string {
    if (route.path.startsWith('/scim/v2/Users/')) return existing['user']!;
    if (route.path.startsWith('/scim/v2/Groups/')) return existing['group']!;
    // No such object: the body is validated before the object is looked up.
    if (route.path.startsWith('/kms/v1/sharedObjects/'))
      return '00000000-0000-4000-8000-000000000000';
    if (parameter === 'name' && /:(sign|verify)$/.test(route.path)) return 'injection-signing';
    if (parameter === 'name' && /:(mac|verifyMac)$/.test(route.path)) return 'injection-mac';
    if (parameter === 'name' || parameter === 'key') return 'injection-aes';
    if (parameter === 'ring') return 'default';
    return 'injection';
  }

  function probesOf(route: OpenApiRoute): Probe[] {
    const probes: Probe[] = [];
    const hasParameters = route.path.includes('{');
    const bodySchema =
      route.request && route.method !== 'get' ? jsonSchema(route.request, 'input') : undefined;
    const names = queryNames(route);
    for (const payload of PAYLOADS) {
      const { name, text } = payload;
      if (hasParameters)
        probes.push({ route, what: `${name} in the path`, path: pathWith(route, payload) });
      if (bodySchema) {
        probes.push({
          route,
          what: `${name} in every body string`,
          path: pathWith(route, undefined),
          body: JSON.stringify(sample(bodySchema, text)),
        });
      }
      for (const query of names) {
        probes.push({
          route,
          what: `${name} in query ${query}`,
          path: pathWith(route, undefined),
          query: { [query]: inUrl(payload) },
        });
      }
    }
    if (names.includes('filter')) {
      for (const filter of SCIM_FILTERS) {
        probes.push({
          route,
          what: `filter ${filter.slice(0, 40)}`,
          path: route.path,
          query: { filter: encodeURIComponent(filter) },
        });
      }
    }
    if (bodySchema) {
      const path = pathWith(route, undefined);
      const body = (text: unknown) => JSON.stringify(sample(bodySchema, text));
      probes.push(
        {
          route,
          what: 'a NoSQL operator object for every string',
          path,
          body: body({ $ne: null }),
        },
        { route, what: 'an array for every string', path, body: body(["' OR 1=1 --"]) },
        { route, what: 'a string far past every limit', path, body: body(VERY_LONG_BODY_TEXT) },
        {
          route,
          what: 'prototype pollution through __proto__ and constructor.prototype',
          path,
          body: `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${body('x').slice(1)}`.replace(
            /,}$/,
            '}',
          ),
        },
        { route, what: 'not JSON', path, body: `{"a":'x' OR 1=1` },
      );
    }
    return probes;
  }

  async function sendAll(probes: Probe[], parallel = 4): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < probes.length) answers.push(await send(probes[next++]!));
      }),
    );
  }

  beforeAll(async () => {
    platform = await startPlatformUnderTest('injection');
    database = new pg.Client({ connectionString: platform.databaseUrl });
    await database.connect();
    tokens = Object.fromEntries(
      await Promise.all(
        APIS.map(async (api) => [api.prefix, await accessToken(api.resource, api.scope)] as const),
      ),
    );
    serviceUrls = Object.fromEntries(
      platform.platform.services.map((service) => [service.name, service.url]),
    );
    const identity = await loadWorkloadSigner(
      'identity',
      join(platform.home, 'workload/private/identity.jwk'),
    );
    workloadAssertion = (audience) => identity.assertionFor(audience);

    const create = async (path: string, body: unknown) => {
      const response = await fetch(`${platform.issuer}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens[APIS.find((api) => path.startsWith(api.prefix))!.prefix]}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id?: string };
    };
    await create('/kms/v1/keys', { name: 'injection-aes', purpose: 'ENCRYPT_DECRYPT' });
    await create('/kms/v1/keys', {
      name: 'injection-signing',
      purpose: 'SIGN_VERIFY',
      algorithm: 'ES256',
    });
    await create('/kms/v1/keys', { name: 'injection-mac', purpose: 'MAC' });
    existing['user'] = (
      await create('/scim/v2/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'injection-target',
        emails: [{ value: 'injection-target@example.org', primary: true }],
      })
    ).id!;
    existing['group'] = (
      await create('/scim/v2/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'injection-group',
      })
    ).id!;
    tablesBefore = await tables();

    // Deleting the probes' own targets would only make later probes 404 earlier: leave DELETE
    // routes for last, and the resources they delete are the last thing the test needs.
    const routes = SERVICES.flatMap((service) => service.routes);
    const ordered = [
      ...routes.filter((route) => route.method !== 'delete'),
      ...routes.filter((route) => route.method === 'delete'),
    ];
    const started = Date.now();
    await sendAll(ordered.filter((route) => route.method !== 'delete').flatMap(probesOf));
    await sendAll(ordered.filter((route) => route.method === 'delete').flatMap(probesOf), 1);
    const byStatus: Record<number, number> = {};
    for (const answer of answers) byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    process.stdout.write(
      `[injection] ${answers.length} requests to ${routes.length} operations in ${Date.now() - started} ms; by status ${JSON.stringify(byStatus)}\n`,
    );
  }, 240_000);

  afterAll(async () => {
    await database?.end();
    await platform?.stop();
  });

  const describeAnswer = (answer: Answer) =>
    `${answer.probe.route.method.toUpperCase()} ${answer.probe.route.path} (${answer.probe.what}): ${answer.status} ${answer.text.slice(0, 200)}`;

  it('sent something to every operation that takes input', () => {
    const reached = new Set(answers.map((answer) => answer.probe.route.operationId));
    const takingInput = SERVICES.flatMap((service) => service.routes).filter(
      (route) => route.path.includes('{') || route.request || queryNames(route).length > 0,
    );
    expect(takingInput.length).toBeGreaterThan(40);
    expect(takingInput.filter((route) => !reached.has(route.operationId))).toEqual([]);
  });

  it('never answers 5xx', () => {
    expect(answers.filter((answer) => answer.status >= 500).map(describeAnswer)).toEqual([]);
  });

  it('refuses with a problem document (SCIM: a SCIM error), marked nosniff, without internals', () => {
    const refusals = answers.filter((answer) => answer.status >= 400);
    expect(refusals.length).toBeGreaterThan(500);
    const wrong = refusals.filter((answer) => {
      const scim = answer.probe.route.path.startsWith('/scim/v2/');
      // Under /scim/v2 identity answers SCIM errors (ADR 0018); what the gateway refuses before
      // forwarding (a malformed URL) is a problem document, as for every other prefix.
      const type = scim ? /^application\/(scim|problem)\+json/ : /^application\/problem\+json/;
      return !type.test(answer.contentType) || !answer.nosniff || INTERNALS.test(answer.text);
    });
    expect(wrong.map((answer) => `${answer.contentType} ${describeAnswer(answer)}`)).toEqual([]);
  });

  it('answers in JSON or NDJSON only: hostile text that comes back is never served as a page', () => {
    const echoed = answers.filter(
      (answer) =>
        answer.text.includes('<script>') &&
        !/^application\/(problem\+|scim\+)?json|^application\/x-ndjson/.test(answer.contentType),
    );
    expect(echoed.map(describeAnswer)).toEqual([]);
  });

  it('never makes a response header from input', () => {
    expect(answers.filter((answer) => answer.injectedHeader).map(describeAnswer)).toEqual([]);
  });

  it('refuses unknown body properties by name, on every operation that is not a listed exception', async () => {
    const routes = SERVICES.flatMap((service) => service.routes).filter(
      (route) => route.request && route.method !== 'get' && route.method !== 'delete',
    );
    const unnamed: string[] = [];
    const refusedFirst: string[] = [];
    for (const route of routes.filter((candidate) => !TOLERATES_UNKNOWN(candidate))) {
      const body = sample(jsonSchema(route.request!, 'input'), 'x') as Record<string, unknown>;
      const answer = await send({
        route,
        what: 'an unknown property',
        path: pathWith(route, undefined),
        body: JSON.stringify({ ...body, unexpectedProperty: 'x' }),
      });
      // Refused before the body is read (a token without the right to call) proves nothing
      // either way; everything else must name the property.
      if (answer.status === 401 || answer.status === 403) {
        refusedFirst.push(route.operationId);
        continue;
      }
      if (answer.status !== 400 || !answer.text.includes('unexpectedProperty')) {
        unnamed.push(describeAnswer(answer));
      }
    }
    expect(unnamed).toEqual([]);
    // Every such operation read the body: none refused the caller first, so none went unchecked.
    expect(refusedFirst).toEqual([]);
  });

  it("identity's pages (outside the route definitions): hostile form fields and query values", async () => {
    // Form bodies keep unknown fields out by parsing only the fields each form names (see
    // security.md); the extra fields here must change nothing, prototype keys included.
    const extraFields = {
      __proto__: 'x',
      '__proto__[polluted]': 'yes',
      'constructor[prototype][polluted]': 'yes',
      unknownField: 'x',
    };
    const problems: string[] = [];
    const check = (what: string, response: { status: number; headers: Headers; body: string }) => {
      const type = response.headers.get('content-type') ?? '';
      const markup = /<(script|img|svg)\b[^>]*alert/i.test(response.body);
      if (
        response.status >= 500 ||
        markup ||
        (response.status !== 303 && !/^text\/html/.test(type))
      ) {
        problems.push(`${what}: ${response.status} ${type} ${response.body.slice(0, 120)}`);
      }
    };
    const registration = new FormClient(platform.issuer);
    const signIn = new FormClient(platform.issuer);
    const login = await signIn.follow(await signIn.get('/account'));
    const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(login.body)![1]!;
    for (const payload of PAYLOADS) {
      const { name, text } = payload;
      const page = await registration.get('/account/register');
      check(
        `register with ${name}`,
        await registration.post('/account/register', {
          username: text,
          email: `${text}@example.org`,
          password: `${text} and a long pass phrase`,
          invitation: text,
          ...extraFields,
          _csrf: csrfTokenOf(page.body),
        }),
      );
      check(
        `sign in with ${name}`,
        await signIn.post(action, {
          step: 'password',
          username: text,
          password: text,
          ...extraFields,
          _csrf: csrfTokenOf(login.body),
        }),
      );
      const value = inUrl(payload);
      check(
        `register?invitation= ${name}`,
        await registration.get(`/account/register?invitation=${value}`),
      );
      check(`verify?token= ${name}`, await registration.get(`/account/verify?token=${value}`));
    }
    expect(problems).toEqual([]);
  });

  it('ran no statement it was sent: every table is still there', async () => {
    expect(await tables()).toEqual(tablesBefore);
    expect(tablesBefore).toEqual(
      expect.arrayContaining(['identity.accounts', 'key_management.keys', 'audit.audit_records']),
    );
  });

  it('polluted no object prototype in any service (they run in this process)', () => {
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
