import { describe, expect, it } from '@jest/globals';
import { parseCorsAllowlist } from './cors.js';

describe('GATEWAY_CORS_ALLOWLIST', () => {
  it('reads prefixes with exact origins', () => {
    const allowlist = parseCorsAllowlist(
      '/oidc/token=https://app.example https://spa.example:8443; /authz=http://localhost:5173',
    );
    expect([...allowlist.keys()]).toEqual(['/oidc/token', '/authz']);
    expect([...allowlist.get('/oidc/token')!]).toEqual([
      'https://app.example',
      'https://spa.example:8443',
    ]);
    expect(parseCorsAllowlist('').size).toBe(0);
  });

  it.each([
    ['/api=*', /not an origin/],
    ['/api=null', /not an origin/],
    ['/api=https://*.example', /not an exact origin|not an origin/],
    ['/api=https://app.example/path', /not an exact origin/],
    ['/api=ftp://app.example', /not an exact origin/],
    ['api=https://app.example', /path prefix/],
    ['/../x=https://app.example', /path prefix/],
    ['/api=', /names no origin/],
    ['/api=https://a.example=https://b.example', /path prefix/],
  ])('refuses %s', (value, reason) => {
    expect(() => parseCorsAllowlist(value)).toThrow(reason);
  });
});
