import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  generateWrapKeyPair,
  SecureSharing,
  SharingClient,
  utf8,
  type PublicWrapJwk,
} from '@rampart/e2ee';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';

const SCOPE = 'kms.share';

/** Debian's package; CI installs it (.ci/run). Another build can be named with CHROMIUM_PATH. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const LIBRARY_ENTRY = fileURLToPath(new URL('../../../../libs/e2ee/src/index.ts', import.meta.url));

/** What the page keeps of its user: the library, and keys that never leave the page. */
type PageGlobals = typeof globalThis & {
  isSecureContext: boolean;
  e2ee: typeof import('@rampart/e2ee');
  me: { user: string; token: string; baseUrl: string; keys: import('@rampart/e2ee').WrapKeyPair };
};

describe('end-to-end encryption in a real browser (Chromium) against the real service', () => {
  let kms: KmsHarness;
  let browser: Browser;
  let bundle: string;

  /**
   * One user's device: a fresh browser context on the service's own origin (so the page calls
   * the API same-origin, and http://127.0.0.1 is a secure context where WebCrypto exists). Only
   * the page's two files are served by the test; every API call reaches the real service.
   */
  async function device(user: string): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const origin = kms.service.url;
    await page.route(`${origin}/__e2ee__/**`, (route) =>
      route.request().url().endsWith('/e2ee.js')
        ? route.fulfill({ contentType: 'text/javascript', body: bundle })
        : route.fulfill({
            contentType: 'text/html',
            body: `<!doctype html><script type="module">
              import * as e2ee from './e2ee.js';
              globalThis.e2ee = e2ee;
              document.title = 'ready';
            </script>`,
          }),
    );
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/__e2ee__/index.html`);
    await page.waitForFunction("document.title === 'ready'", undefined, { timeout: 10_000 });
    expect(errors).toEqual([]);
    const token = await kms.token(user, SCOPE);
    await page.evaluate(
      async ({ user, token, baseUrl }) => {
        const g = globalThis as PageGlobals;
        const keys = await g.e2ee.generateWrapKeyPair();
        g.me = { user, token, baseUrl, keys };
        await new g.e2ee.SharingClient({ baseUrl, accessToken: token }).registerWrapKey(
          keys.publicJwk,
        );
      },
      { user, token, baseUrl: origin },
    );
    return page;
  }

  /** Runs one SecureSharing call in the page; errors come back as their code or status. */
  function inPage<R>(
    page: Page,
    action: 'create' | 'read' | 'share' | 'revoke' | 'describe',
    ...args: (string | string[])[]
  ): Promise<R> {
    return page.evaluate(
      async ({ action, args }) => {
        const g = globalThis as PageGlobals;
        const { e2ee, me } = g;
        const client = new e2ee.SharingClient({ baseUrl: me.baseUrl, accessToken: me.token });
        const sharing = new e2ee.SecureSharing(client, { user: me.user, keys: me.keys });
        try {
          switch (action) {
            case 'create':
              return (
                await sharing.create(e2ee.utf8.encode(args[0] as string), args[1] as string[])
              ).id;
            case 'read':
              return e2ee.utf8.decode(await sharing.read(args[0] as string));
            case 'share':
              return await sharing.share(args[0] as string, args[1] as string);
            case 'revoke':
              return (await sharing.revoke(args[0] as string, args[1] as string)).version;
            case 'describe':
              return {
                extractable: me.keys.privateKey.extractable,
                publicJwk: me.keys.publicJwk,
                fingerprint: me.keys.fingerprint,
                secureContext: g.isSecureContext,
              };
          }
        } catch (error) {
          const failure = error as { code?: string; status?: number; message: string };
          return { failed: failure.status ?? failure.code ?? failure.message };
        }
      },
      { action, args },
    ) as Promise<R>;
  }

  beforeAll(async () => {
    // The library as a browser gets it: bundled from source, for the browser platform (a Node
    // built-in anywhere in it fails the build here).
    const output = await build({
      entryPoints: [LIBRARY_ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      write: false,
      logLevel: 'silent',
    });
    bundle = output.outputFiles[0]!.text;
    kms = await startKms();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in CI containers: Chromium's sandbox needs user namespaces it may not have.
      args: ['--no-sandbox'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await kms?.stop();
  });

  it('encrypts, shares and revokes in the browser; the service only ever sees ciphertext', async () => {
    const alice = await device('alice');
    const bob = await device('bob');

    const described = await inPage<{
      extractable: boolean;
      publicJwk: PublicWrapJwk;
      fingerprint: string;
      secureContext: boolean;
    }>(alice, 'describe');
    expect(described).toMatchObject({ extractable: false, secureContext: true });
    expect(Object.keys(described.publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);

    const secret = `browser marker ${crypto.randomUUID()}`;
    const id = await inPage<string>(alice, 'create', secret, ['bob']);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await inPage(bob, 'read', id)).toBe(secret);

    // A device in another runtime reads what the browser encrypted: one format for both.
    const carolKeys = await generateWrapKeyPair();
    const carol = new SecureSharing(
      new SharingClient({ baseUrl: kms.service.url, accessToken: () => kms.token('carol', SCOPE) }),
      { user: 'carol', keys: carolKeys },
    );
    await carol.register();
    await inPage(alice, 'share', id, 'carol');
    expect(utf8.decode(await carol.read(id))).toBe(secret);

    // What the browser sent, the service stored: ciphertext only.
    const [stored] = await kms.query<{ ciphertext: Buffer }>(
      `SELECT ciphertext FROM shared_objects WHERE id = $1`,
      [id],
    );
    expect(stored!.ciphertext.includes(Buffer.from(secret))).toBe(false);
    expect(stored!.ciphertext.length).toBe(1 + 12 + Buffer.byteLength(secret) + 16);

    expect(await inPage(alice, 'revoke', id, 'bob')).toBe(2);
    expect(await inPage(bob, 'read', id)).toEqual({ failed: 404 });
    expect(await inPage(alice, 'read', id)).toBe(secret);
    expect(utf8.decode(await carol.read(id))).toBe(secret);
  });
});
