/**
 * The service map: every Rampart service, the public path prefixes the gateway routes to it, and
 * the port it listens on in all-in-one mode. The gateway and the all-in-one launcher read this;
 * nothing else about one service is known to another.
 */
export const SERVICE_NAMES = [
  'gateway',
  'identity',
  'authorization',
  'key-management',
  'consent',
  'audit',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceRoute {
  readonly service: Exclude<ServiceName, 'gateway'>;
  /** Public path prefixes, routed unchanged (the service mounts its routes under them). */
  readonly prefixes: readonly string[];
  /** Where the service publishes its OpenAPI document, through the gateway. */
  readonly openApiPath: string;
  /** Port in all-in-one mode; distributed deployments configure upstream URLs instead. */
  readonly defaultPort: number;
}

export const GATEWAY_DEFAULT_PORT = 8080;

export const SERVICE_ROUTES = [
  {
    service: 'identity',
    prefixes: ['/.well-known', '/oidc', '/interaction', '/account', '/scim/v2'],
    openApiPath: '/oidc/openapi.json',
    defaultPort: 8081,
  },
  {
    service: 'authorization',
    prefixes: ['/authz'],
    openApiPath: '/authz/openapi.json',
    defaultPort: 8082,
  },
  {
    service: 'key-management',
    prefixes: ['/kms'],
    openApiPath: '/kms/openapi.json',
    defaultPort: 8083,
  },
  {
    service: 'consent',
    prefixes: ['/privacy'],
    openApiPath: '/privacy/openapi.json',
    defaultPort: 8084,
  },
  { service: 'audit', prefixes: ['/audit'], openApiPath: '/audit/openapi.json', defaultPort: 8085 },
] as const satisfies readonly ServiceRoute[];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}

/**
 * The gateway's per-request CSP nonce, handed to the service that renders a page so the page's
 * `nonce` attributes and the gateway's `Content-Security-Policy` agree (ADR 0029). Internal: the
 * gateway replaces any value a caller sends.
 */
export const CSP_NONCE_HEADER = 'x-rampart-csp-nonce';
