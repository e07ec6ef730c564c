import { describe, expect, it } from '@jest/globals';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RampartError } from '@rampart/platform';
import { CSRF_COOKIE, CsrfProtection } from './csrf.js';

const ORIGIN = 'https://id.example.org';
const SECRET = 'a secret that is long enough for the test ........';

/** Just the parts of a Fastify request and reply the CSRF protection reads and writes. */
function exchange(headers: Record<string, string> = {}) {
  const set: string[] = [];
  const request = { headers } as unknown as FastifyRequest;
  const reply = {
    header: (name: string, value: string) => {
      if (name === 'set-cookie') set.push(value);
      return reply;
    },
  } as unknown as FastifyReply;
  return { request, reply, set };
}

function refusal(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error instanceof RampartError ? `${error.status} ${error.code}` : String(error);
  }
}

describe('CSRF protection', () => {
  const csrf = new CsrfProtection(SECRET, ORIGIN);

  it('sets a __Host- cookie once and binds the token to it', () => {
    const first = exchange();
    const token = csrf.token(first.request, first.reply);
    expect(first.set).toHaveLength(1);
    const cookie =
      /^__Host-rampart-csrf=([\w-]{43}); Path=\/; Secure; HttpOnly; SameSite=Lax$/.exec(
        first.set[0]!,
      );
    expect(cookie).not.toBeNull();
    const again = exchange({ cookie: `${CSRF_COOKIE}=${cookie![1]}` });
    expect(csrf.token(again.request, again.reply)).toBe(token);
    expect(again.set).toEqual([]);

    const post = exchange({ cookie: `${CSRF_COOKIE}=${cookie![1]}`, origin: ORIGIN });
    expect(refusal(() => csrf.verify(post.request, token))).toBeUndefined();
  });

  it('refuses a missing, foreign or forged token, a planted second cookie and cross-site posts', () => {
    const browser = `${'a'.repeat(43)}`;
    const other = `${'b'.repeat(43)}`;
    const tokenFor = (id: string) => {
      const { request, reply } = exchange({ cookie: `${CSRF_COOKIE}=${id}` });
      return csrf.token(request, reply);
    };
    const token = tokenFor(browser);
    const cookie = `${CSRF_COOKIE}=${browser}`;
    const cases: [Record<string, string>, unknown][] = [
      [{ cookie }, undefined],
      [{ cookie }, tokenFor(other)],
      [{ cookie }, `${token.slice(0, -1)}A`],
      [{}, token],
      [{ cookie: `${cookie}; ${CSRF_COOKIE}=${other}` }, token],
      [{ cookie, 'sec-fetch-site': 'cross-site' }, token],
      [{ cookie, 'sec-fetch-site': 'same-site' }, token],
      [{ cookie, origin: 'https://evil.example' }, token],
      [{ cookie }, [token]],
    ];
    for (const [headers, submitted] of cases) {
      const { request } = exchange(headers);
      expect(refusal(() => csrf.verify(request, submitted))).toBe('403 forbidden');
    }
    // Another server key: the same browser id yields a different token.
    const elsewhere = new CsrfProtection(`${SECRET}!`, ORIGIN);
    const { request } = exchange({ cookie });
    expect(refusal(() => elsewhere.verify(request, token))).toBe('403 forbidden');
    // `Origin: null` and same-origin provenance leave the decision to the token.
    const nullOrigin = exchange({ cookie, origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(refusal(() => csrf.verify(nullOrigin.request, token))).toBeUndefined();
  });
});
