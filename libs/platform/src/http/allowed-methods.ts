import Router from 'find-my-way';

/**
 * Which methods a path has routes for, so a request with another method gets 405 with `Allow`
 * (RFC 9110 §15.5.6) instead of a 404 that says the resource does not exist. Fastify has no such
 * answer of its own; this index is filled from its `onRoute` hook with the same matching rules.
 */
export class AllowedMethods {
  private readonly router = Router();
  private readonly methods = new Set<string>();

  record(method: string | readonly string[], url: string): void {
    for (const one of typeof method === 'string' ? [method] : method) {
      // Fastify may register the same method and path twice (a HEAD for every GET, or one
      // explicitly): the first is enough here.
      if (this.router.hasRoute(one as Router.HTTPMethod, url)) continue;
      this.router.on(one as Router.HTTPMethod, url, () => undefined);
      this.methods.add(one);
    }
  }

  /** The methods `path` (no query) has routes for; empty when it has none at all. */
  of(path: string): string[] {
    return [...this.methods].filter((method) => {
      try {
        return this.router.find(method as Router.HTTPMethod, path) !== null;
      } catch {
        return false;
      }
    });
  }
}
