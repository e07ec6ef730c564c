import { describe, expect, it } from '@jest/globals';
import { ClientAddress, ipv6Prefix64 } from './client-address.js';
import {
  bucketsFor,
  canonicalPath,
  credentialDigest,
  parseRateLimit,
  type RateLimitPolicies,
} from './rate-limit-policies.js';

const policies: RateLimitPolicies = {
  default: parseRateLimit('default', '600/1m'),
  bearer: parseRateLimit('bearer', '600/1m'),
  signIn: parseRateLimit('sign-in', '10/1m'),
  token: parseRateLimit('token', '300/1m'),
  registration: parseRateLimit('registration', '10/1h'),
  recovery: parseRateLimit('recovery', '5/1h'),
};

function names(method: string, url: string, authorization?: string): string[] {
  return bucketsFor({ method, url, authorization, client: '192.0.2.7' }, policies).map(
    (bucket) => bucket.name,
  );
}

describe('GATEWAY_RATE_LIMIT_* values', () => {
  it.each([
    ['10/1m', 10, 60],
    ['600/60s', 600, 60],
    [' 5 / 1h ', 5, 3600],
    ['1/24h', 1, 86_400],
  ])('reads %s', (value, limit, windowSeconds) => {
    expect(parseRateLimit('p', value)).toEqual({ name: 'p', limit, windowSeconds });
  });

  it.each([
    ['10', /not <limit>\/<window>/],
    ['10/m', /not <limit>\/<window>/],
    ['ten/1m', /not <limit>\/<window>/],
    ['0/1m', /at least 1/],
    ['10/0s', /between 1s and 24h/],
    ['10/25h', /between 1s and 24h/],
    ['-1/1m', /not <limit>\/<window>/],
  ])('refuses %s', (value, reason) => {
    expect(() => parseRateLimit('p', value)).toThrow(reason);
  });
});

describe('which quotas a request spends', () => {
  it('charges every request to its address first', () => {
    expect(names('GET', '/account')).toEqual(['default']);
    expect(names('GET', '/interaction/abc')).toEqual(['default']);
    expect(
      bucketsFor(
        { method: 'GET', url: '/', authorization: undefined, client: '192.0.2.7' },
        policies,
      )[0],
    ).toMatchObject({ key: 'default:192.0.2.7', policy: { limit: 600 } });
  });

  it.each([
    ['POST', '/interaction/Xy-9_z/login', 'sign-in'],
    ['POST', '/oidc/device', 'sign-in'],
    ['POST', '/account/password', 'sign-in'],
    ['POST', '/oidc/register', 'registration'],
    ['PUT', '/oidc/register/client-1', 'registration'],
    ['POST', '/account/register', 'registration'],
    ['POST', '/account/verify', 'registration'],
    ['POST', '/account/recovery', 'recovery'],
    ['POST', '/interaction/abc/recovery/code', 'recovery'],
  ])('%s %s is %s, per address', (method, url, policy) => {
    const buckets = bucketsFor(
      { method, url, authorization: undefined, client: '192.0.2.7' },
      policies,
    );
    expect(buckets.map((bucket) => bucket.name)).toEqual(['default', policy]);
    expect(buckets[1]!.key).toBe(`${policy}:192.0.2.7`);
  });

  it.each([
    '/oidc/token',
    '/oidc/token/introspection',
    '/oidc/token/revocation',
    '/oidc/par',
    '/oidc/device/auth',
    '/oidc/backchannel',
  ])('POST %s is token, per address and per client credential', (url) => {
    const basic = `Basic ${Buffer.from('client:secret').toString('base64')}`;
    const buckets = bucketsFor(
      { method: 'POST', url, authorization: basic, client: '192.0.2.7' },
      policies,
    );
    expect(buckets.map((bucket) => bucket.name)).toEqual(['default', 'token', 'token-client']);
    expect(buckets[2]!.key).toBe(`token-client:${credentialDigest(basic)}`);
    expect(buckets[2]!.key).not.toContain('secret');
    expect(names('POST', url)).toEqual(['default', 'token']);
  });

  it('cannot be dodged by spelling a strict path differently', () => {
    for (const url of [
      '/OIDC/Token',
      '//oidc//token/',
      '/oidc/%74oken',
      '/oidc/token?grant_type=client_credentials',
      '/interaction/abc/login/',
    ])
      expect(names('POST', url)).toContain(url.includes('login') ? 'sign-in' : 'token');
    expect(canonicalPath('/oidc/%E0%A4%A')).toBe('/oidc/%e0%a4%a');
  });

  it('leaves reading pages and unrelated writes on the default quota', () => {
    expect(names('GET', '/interaction/abc/login')).toEqual(['default']);
    expect(names('GET', '/oidc/token')).toEqual(['default']);
    expect(names('POST', '/interaction/abc/confirm')).toEqual(['default']);
    expect(names('POST', '/oidc/tokens')).toEqual(['default']);
    expect(names('POST', '/account/registered')).toEqual(['default']);
  });

  it('charges API calls per bearer or DPoP token, by digest', () => {
    const bearer = bucketsFor(
      {
        method: 'GET',
        url: '/authz/v1/x',
        authorization: 'Bearer abc.def.ghi',
        client: '192.0.2.7',
      },
      policies,
    );
    expect(bearer.map((bucket) => bucket.name)).toEqual(['default', 'bearer']);
    expect(bearer[1]!.key).toBe(`bearer:${credentialDigest('abc.def.ghi')}`);
    // The same token under DPoP is the same caller.
    expect(
      bucketsFor(
        { method: 'GET', url: '/x', authorization: 'DPoP abc.def.ghi', client: '192.0.2.7' },
        policies,
      )[1]!.key,
    ).toBe(bearer[1]!.key);
    expect(names('GET', '/x', 'Basic Zm9vOmJhcg==')).toEqual(['default']);
    expect(credentialDigest('abc.def.ghi')).toMatch(/^[\w-]{22}$/);
  });
});

describe('the address a request is charged to', () => {
  const request = (ip: string, forwardedFor?: string) => ({
    ip,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  });

  it('is the peer, whatever an untrusted caller forwards', () => {
    const addresses = new ClientAddress([]);
    expect(addresses.of(request('192.0.2.7', '198.51.100.1'))).toBe('192.0.2.7');
    expect(addresses.of(request('::ffff:192.0.2.7'))).toBe('192.0.2.7');
  });

  it('is the nearest untrusted hop behind trusted proxies', () => {
    const addresses = new ClientAddress(['10.0.0.0/8', '192.0.2.1']);
    expect(addresses.of(request('10.1.2.3', '198.51.100.9'))).toBe('198.51.100.9');
    // The caller prepends a lie; the proxies appended the truth after it.
    expect(addresses.of(request('10.1.2.3', '203.0.113.1, 198.51.100.9, 192.0.2.1'))).toBe(
      '198.51.100.9',
    );
    expect(addresses.of(request('10.1.2.3', 'garbage, 10.9.9.9'))).toBe('10.9.9.9');
    expect(addresses.of(request('10.1.2.3'))).toBe('10.1.2.3');
  });

  it('is the /64 for IPv6', () => {
    const addresses = new ClientAddress([]);
    expect(addresses.of(request('2001:db8:1:2:3:4:5:6'))).toBe('2001:db8:1:2::/64');
    expect(addresses.of(request('2001:db8:1:2::9'))).toBe('2001:db8:1:2::/64');
    expect(ipv6Prefix64('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipv6Prefix64('::1')).toBe('0:0:0:0::/64');
    expect(ipv6Prefix64('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(ipv6Prefix64('fe80::1%eth0'.split('%')[0]!)).toBe('fe80:0:0:0::/64');
  });
});
