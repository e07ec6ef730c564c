export interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  location: string | null;
}

/**
 * A browser's HTTP behaviour without the browser, for tests of server-rendered pages over real
 * HTTP: it keeps cookies (by name, ignoring paths), sends the provenance headers a browser sends
 * on a same-origin form post, and does not follow redirects (tests look at them).
 */
export class FormClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  async get(path: string): Promise<PageResponse> {
    return this.request('GET', path);
  }

  /** Posts a form as a same-origin page of `origin` would. */
  async post(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<PageResponse> {
    return this.request('POST', path, new URLSearchParams(fields).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      origin: this.origin,
      'sec-fetch-site': 'same-origin',
      ...headers,
    });
  }

  /** Follows redirects within `origin`, stopping at a page or at a location outside it. */
  async follow(response: PageResponse): Promise<PageResponse> {
    let current = response;
    for (let hops = 0; hops < 10 && current.location; hops += 1) {
      const next = new URL(current.location, this.origin);
      if (next.origin !== new URL(this.origin).origin) return current;
      current = await this.get(next.pathname + next.search);
    }
    return current;
  }

  async request(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(new URL(path, this.origin), {
      method,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
      ...(body === undefined ? {} : { body }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair!.indexOf('=');
      const name = pair!.slice(0, separator);
      const value = pair!.slice(separator + 1);
      if (/Max-Age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: response.headers.get('location'),
    };
  }
}

/** The CSRF token in a page's form. */
export function csrfTokenOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('the page has no CSRF field');
  return match[1]!;
}
