import { describe, expect, it } from '@jest/globals';
import { formActionExtras } from './content-security-policy.js';

describe('formActionExtras', () => {
  it('keeps the concrete origins and custom schemes of a service’s form-action', () => {
    expect(
      formActionExtras(
        "default-src 'none'; form-action 'self' https://app.example:8443 http://localhost:3000 com.example.app:",
      ),
    ).toEqual(['https://app.example:8443', 'http://localhost:3000', 'com.example.app:']);
  });

  it.each([
    ['a wildcard', '*'],
    ['a host wildcard', 'https://*.example'],
    ['a keyword', "'unsafe-inline'"],
    ['a bare web scheme', 'https:'],
    ['data', 'data:'],
    ['javascript', 'javascript:'],
    ['a path', 'https://app.example/callback'],
  ])('drops %s', (_case, source) => {
    expect(formActionExtras(`form-action 'self' ${source}`)).toEqual([]);
  });

  it('finds nothing without a form-action or a policy', () => {
    expect(formActionExtras("default-src 'self'")).toEqual([]);
    expect(formActionExtras(undefined)).toEqual([]);
    expect(formActionExtras(['form-action https://a.example'])).toEqual([]);
  });
});
