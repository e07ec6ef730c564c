import { html, type HtmlValue, type SafeHtml } from './html.js';

/** Where the stylesheet is served (same origin, so `style-src 'self'` admits it). */
export const STYLESHEET_PATH = '/account/assets/rampart.css';

/** What a page's body needs from the response being built. */
export interface PageView {
  /**
   * This response's CSP nonce, for a `<script src nonce>` should a page ever need one. The
   * stylesheet carries it already (harmless under `style-src 'self'`), so the gateway's hand-off
   * can be checked on every page (ADR 0029).
   */
  nonce: string;
  /** The hidden CSRF field to put in every form. */
  csrf: SafeHtml;
}

export interface Page {
  title: string;
  status?: number;
  body: (view: PageView) => SafeHtml;
  /** Links of the account centre in the header (signed-in pages only). */
  accountNavigation?: boolean;
  /** Redirect targets of this page's forms, for CSP `form-action` (see page-security.ts). */
  formRedirects?: readonly string[];
}

/** The document around every page: language, viewport, our stylesheet, a skip link, landmarks. */
export function layout(page: Page, view: PageView): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${page.title} · Rampart</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" nonce="${view.nonce}" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site">
          <span class="brand">Rampart</span>
          ${page.accountNavigation ? accountNavigation() : ''}
        </header>
        <main id="main">
          <h1>${page.title}</h1>
          ${page.body(view)}
        </main>
      </body>
    </html> `;
}

function accountNavigation(): SafeHtml {
  return html`<nav aria-label="Account">
    <ul>
      <li><a href="/account">Profile</a></li>
      <li><a href="/account/password">Password</a></li>
      <li><a href="/account/sessions">Sessions</a></li>
      <li><a href="/account/delete">Delete account</a></li>
      <li><a href="/oidc/session/end">Sign out</a></li>
    </ul>
  </nav>`;
}

/** Field-level messages of a form that failed validation, by field name. */
export type FieldErrors = Readonly<Record<string, string | undefined>>;

export interface FieldOptions {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password' | 'hidden';
  autocomplete?: string;
  value?: string | undefined;
  required?: boolean;
  hint?: string;
  errors?: FieldErrors;
  maxLength?: number;
}

/**
 * A labelled input. Its hint and error are tied to it with aria-describedby, and an error sets
 * aria-invalid, so a screen reader announces why the field was refused.
 */
export function field(options: FieldOptions): SafeHtml {
  const id = `field-${options.name}`;
  const error = options.errors?.[options.name];
  const described = [options.hint ? `${id}-hint` : '', error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const input = attributes({
    id,
    name: options.name,
    type: options.type ?? 'text',
    autocomplete: options.autocomplete,
    value: options.value,
    maxlength: options.maxLength,
    'aria-describedby': described || undefined,
    required: options.required,
    'aria-invalid': error ? 'true' : undefined,
  });
  return html`<div class="field${error ? ' invalid' : ''}">
    <label for="${id}">${options.label}</label>
    ${options.hint ? html`<p class="hint" id="${id}-hint">${options.hint}</p>` : ''}
    ${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
    <input${input} />
  </div>`;
}

/**
 * ` name="value"` for each attribute with a value (escaped), ` name` for `true`, nothing for
 * `undefined` or `false`.
 */
export function attributes(
  values: Readonly<Record<string, string | number | boolean | undefined>>,
): SafeHtml {
  return html`${Object.entries(values).map(([name, value]) =>
    value === undefined || value === false
      ? ''
      : value === true
        ? html` ${name}`
        : html` ${name}="${String(value)}"`,
  )}`;
}

/** A summary at the top of a refused form, linking to each field (focus moves there without JS). */
export function errorSummary(message: string, errors: FieldErrors = {}): SafeHtml {
  const items = Object.entries(errors).filter((entry): entry is [string, string] => !!entry[1]);
  return html`<div class="error-summary" role="alert" tabindex="-1">
    <p>${message}</p>
    ${
      items.length > 0
        ? html`<ul>
            ${items.map(([name, text]) => html`<li><a href="#field-${name}">${text}</a></li>`)}
          </ul>`
        : ''
    }
  </div>`;
}

/** A short paragraph for notices (success messages after a redirect). */
export function notice(text: HtmlValue): SafeHtml {
  return html`<p class="notice" role="status">${text}</p>`;
}
