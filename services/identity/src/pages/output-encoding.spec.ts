import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountsService } from '../accounts/accounts.service.js';
import { PasswordStep } from '../interactions/password.step.js';
import type { LoginStepContext } from '../interactions/login-steps.js';
import { escapeHtml, html } from './html.js';
import { errorSummary, field, layout, notice, type PageView } from './layout.js';
import { providerPages } from './provider-pages.js';

/** What an attacker would put in any value a page shows, each aimed at one context. */
const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  'javascript:alert(1)',
  '{{7*7}}${7*7}<%= 7*7 %>',
  '</textarea></title><script>alert(2)</script>',
  '&lt;script&gt;',
];

/**
 * What went wrong with `payload` in a rendered page: markup or a handler an attacker wrote, a URL
 * attribute that starts with a scheme an attacker chose, or the payload not shown as escaped text
 * (dropped, which would make this test vacuous, or evaluated, as a template engine would).
 */
function injections(page: string, payload: string): string[] {
  const found: string[] = [];
  for (const tag of page.match(/<(script|img|svg|iframe)\b/gi) ?? []) found.push(`${tag}>`);
  // An event handler attribute in a tag. Escaped values cannot end their quotes or the tag, so
  // quoted values are dropped first: ` onerror=` inside one is text.
  for (const tag of page.match(/<[a-z][^>]*>/gi) ?? []) {
    const unquoted = tag.replace(/"[^"]*"/g, '""');
    if (/\son\w+\s*=/i.test(unquoted)) found.push(`handler in ${tag}`);
  }
  for (const match of page.matchAll(/\s(href|src|action|formaction)\s*=\s*"\s*javascript:/gi)) {
    found.push(`javascript: URL in ${match[1]}`);
  }
  if (!page.includes(escapeHtml(payload))) found.push('the payload is not shown as escaped text');
  return found;
}

const view: PageView = { nonce: 'bm9uY2Vub25jZW5vbmNlMQ==', csrf: html`` };

/** A Koa context as the provider hands it to its page hooks, recording what the page set. */
function providerContext(oidc: Record<string, unknown>) {
  const context = {
    body: undefined as unknown,
    status: 200,
    type: '',
    oidc,
    get: () => '',
    set: () => undefined,
  };
  return context as typeof context & KoaContextWithOIDC;
}

const bodyOf = (context: { body: unknown }) => String(context.body);

describe.each(PAYLOADS)('pages render %j as text', (payload) => {
  it('in the layout and every building block: title, labels, values, hints, errors, notices', () => {
    const page = layout(
      {
        title: payload,
        accountNavigation: true,
        body: () =>
          html`${notice(payload)}
          ${errorSummary(payload, { [payload]: payload, displayName: payload })}
          ${field({ name: 'displayName', label: payload, value: payload, hint: payload, errors: { displayName: payload } })}
          ${field({ name: payload, label: 'x', type: 'hidden', autocomplete: payload, value: payload })}`,
      },
      view,
    ).value;
    expect(injections(page, payload)).toEqual([]);
    expect(page).toContain(`value="${escapeHtml(payload)}"`);
  });

  it("in the provider's error page: the error code and its description from the request", async () => {
    const context = providerContext({});
    await providerPages.renderError(context, { error: payload, error_description: payload }, {});
    expect(injections(bodyOf(context), payload)).toEqual([]);
  });

  it("in the provider's sign-out, device and success pages: client names and user codes", async () => {
    const client = { clientName: payload, clientId: payload };
    const form =
      '<form id="op.logoutForm" method="post" action="/oidc/session/end/confirm"><input type="hidden" name="xsrf" value="abc"/></form>';
    const deviceForm =
      '<form id="op.deviceInputForm" method="post" action="/oidc/device"><input type="hidden" name="xsrf" value="abc"/></form>';
    const pages: ((context: ReturnType<typeof providerContext>) => Promise<void>)[] = [
      (context) => providerPages.logoutSource(context, form),
      (context) => providerPages.postLogoutSuccessSource(context),
      (context) => providerPages.userCodeInputSource(context, deviceForm, {}, undefined),
      (context) =>
        providerPages.userCodeInputSource(context, deviceForm, {}, { userCode: payload }),
      (context) => providerPages.userCodeConfirmSource(context, form, client, {}, payload),
      (context) => providerPages.successSource(context),
    ];
    for (const render of pages) {
      const context = providerContext({
        client,
        params: { post_logout_redirect_uri: 'https://app.example/', user_code: payload },
      });
      await render(context);
      expect(injections(bodyOf(context), payload)).toEqual([]);
    }
  });

  it('in the sign-in step: the login_hint, the typed username, messages and the interaction id', () => {
    const step = new PasswordStep(undefined as unknown as AccountsService);
    const context: LoginStepContext = {
      request: undefined as never,
      uid: payload,
      state: { amr: [], completed: [] },
      params: { login_hint: payload },
    };
    for (const retry of [
      undefined,
      {
        kind: 'retry' as const,
        status: 400,
        message: payload,
        errors: { username: payload },
        values: { username: payload },
      },
    ]) {
      expect(injections(step.render(context, view, retry).value, payload)).toEqual([]);
    }
  });
});

describe('nothing bypasses the escaping', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');

  async function sources(): Promise<{ file: string; text: string }[]> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return Promise.all(
      entries
        .filter(
          (entry) => entry.isFile() && /\.ts$/.test(entry.name) && !/spec\.ts$/.test(entry.name),
        )
        .map(async (entry) => {
          const path = join(entry.parentPath, entry.name);
          return { file: relative(root, path), text: await readFile(path, 'utf8') };
        }),
    );
  }

  it('raw() wraps only the forms oidc-provider generates, and SafeHtml is made only by html.ts', async () => {
    const uses: string[] = [];
    for (const { file, text } of await sources()) {
      for (const match of text.matchAll(/\braw\((\w[^)]*)\)/g))
        uses.push(`${file}: raw(${match[1]})`);
      if (file !== 'pages/html.ts' && /new SafeHtml\(/.test(text))
        uses.push(`${file}: new SafeHtml`);
      if (/innerHTML|outerHTML|insertAdjacentHTML/.test(text)) uses.push(`${file}: DOM HTML sink`);
    }
    expect(uses.filter((use) => !use.startsWith('pages/html.ts:'))).toEqual([
      'pages/provider-pages.ts: raw(form)',
      'pages/provider-pages.ts: raw(form)',
      'pages/provider-pages.ts: raw(form)',
    ]);
  });

  it('no URL attribute starts with an interpolated value, which could choose the scheme', async () => {
    // Escaping keeps a value inside its attribute but cannot stop `javascript:` at the start of
    // a URL. Only these are interpolated there, and neither comes from a request.
    const allowed = new Set([
      'pages/layout.ts: href="${STYLESHEET_PATH}"', // a constant
      'pages/provider-pages.ts: action="${parts.action}"', // taken from the provider's own form
    ]);
    const found: string[] = [];
    for (const { file, text } of await sources()) {
      for (const match of text.matchAll(/\b(href|src|action|formaction)="\$\{([^}]*)\}/g)) {
        found.push(`${file}: ${match[1]}="\${${match[2]}}"`);
      }
    }
    expect(found.filter((use) => !allowed.has(use))).toEqual([]);
    expect(found.sort()).toEqual([...allowed].sort());
  });
});
