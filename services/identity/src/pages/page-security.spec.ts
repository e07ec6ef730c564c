import { describe, expect, it } from '@jest/globals';
import { pageNonce } from './page-security.js';

describe('pageNonce', () => {
  it("uses the gateway's nonce, so the page matches the gateway's policy", () => {
    expect(pageNonce('q83vEjRWeJq83vEjRWeJqw==')).toBe('q83vEjRWeJq83vEjRWeJqw==');
  });

  it.each([
    ['absent', undefined],
    ['empty (Koa answers an absent header with "")', ''],
    ['repeated', ['q83vEjRWeJq83vEjRWeJqw==', 'q83vEjRWeJq83vEjRWeJqw==']],
    ['able to break out of the policy', "x' 'unsafe-inline"],
    ['too short to be unguessable', 'abc='],
  ])('makes its own when the header is %s', (_case, header) => {
    const nonce = pageNonce(header);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonce).not.toBe(header);
    expect(pageNonce(header)).not.toBe(nonce);
  });
});
