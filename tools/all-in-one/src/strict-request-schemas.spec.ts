import { describe, expect, it } from '@jest/globals';
import { auditService } from '@rampart/audit';
import { authorizationService } from '@rampart/authorization';
import { consentService } from '@rampart/consent';
import { SERVICE_ROUTES } from '@rampart/contracts';
import { gatewayService } from '@rampart/gateway';
import { identityService } from '@rampart/identity';
import { keyManagementService } from '@rampart/key-management';
import { openRequestObjects, type OpenApiRoute, type OpenRequestObject } from '@rampart/platform';

const SERVICES = [
  gatewayService,
  identityService,
  authorizationService,
  keyManagementService,
  consentService,
  auditService,
];

/**
 * The request objects that may carry properties they do not name, each for a protocol reason
 * (docs/architecture/security.md, "Input validation and output encoding"). Everything else
 * must refuse unknown properties, so a typo or a field meant for another version is a 400 and
 * not silently dropped.
 */
const EXCEPTIONS: readonly { why: string; matches: (found: Found) => boolean }[] = [
  {
    // RFC 7643/7644: attribute names are case-insensitive and clients send extension schemas and
    // attributes this server does not store; the SCIM services validate bodies themselves and
    // ignore those (ADR 0018). The route schemas only describe the wire format.
    why: 'SCIM resources and PatchOp messages',
    matches: (found) => found.path.startsWith('/scim/v2/'),
  },
  {
    // RFC 7517 section 4: members of a JWK that are not understood must be ignored (alg, kid,
    // use, key_ops, ...). The private member `d` is refused explicitly by both schemas.
    why: 'public keys as JWKs',
    matches: (found) =>
      (['createKey', 'rotate'].includes(found.operationId) &&
        found.pointer === '/properties/publicKey') ||
      (found.operationId === 'registerWrapKey' && found.pointer === '/properties/publicJwk'),
  },
];

interface Found extends OpenRequestObject {
  path: string;
}

function openObjectsOf(routes: readonly OpenApiRoute[]): Found[] {
  return openRequestObjects(routes).map((found) => ({
    ...found,
    path: routes.find((route) => route.operationId === found.operationId)!.path,
  }));
}

describe('request schemas of every service refuse unknown properties', () => {
  it('covers every service of the service map', () => {
    expect(SERVICES.map((service) => service.name).sort()).toEqual(
      ['gateway', ...SERVICE_ROUTES.map((route) => route.service)].sort(),
    );
  });

  it.each(SERVICES.map((service) => [service.name, service] as const))(
    '%s: no request object lets unknown properties through unless it is a listed exception',
    (_name, service) => {
      const unexpected = openObjectsOf(service.routes).filter(
        (found) => !EXCEPTIONS.some((exception) => exception.matches(found)),
      );
      expect(unexpected).toEqual([]);
    },
  );

  it('lists no exception that nothing needs any more', () => {
    const everything = SERVICES.flatMap((service) => openObjectsOf(service.routes));
    const unused = EXCEPTIONS.filter(
      (exception) => !everything.some((found) => exception.matches(found)),
    ).map((exception) => exception.why);
    expect(unused).toEqual([]);
  });

  it('would catch a loose request schema: the check is not vacuous', () => {
    // A stand-in for a route someone adds with z.object instead of z.strictObject.
    const [route] = keyManagementService.routes.filter((route) => route.operationId === 'encrypt');
    const request = (route!.request as unknown as { loose: () => OpenApiRoute['request'] }).loose();
    expect(openObjectsOf([{ ...route!, request }])).toEqual([
      { operationId: 'encrypt', part: 'request', pointer: '', path: route!.path },
    ]);
  });
});
