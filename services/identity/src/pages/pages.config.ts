import { z } from 'zod';

/** Environment variables of the pages (merged into the identity config). */
export const pagesConfigShape = {
  /**
   * Who may create an account on the sign-up page: `open` (anyone), `invite` (only with an
   * invitation link, bound to one e-mail address) or `closed` (accounts are provisioned through
   * SCIM or the admin API).
   */
  IDENTITY_REGISTRATION: z.enum(['open', 'invite', 'closed']).default('open'),
  /**
   * Signs the provider's cookies and keys the pages' CSRF tokens: at least 32 characters, the same
   * in every replica. Unset: a random secret per process, which production refuses.
   */
  IDENTITY_COOKIE_SECRET: z.string().min(32).optional(),
};

const _pagesConfigObject = z.object(pagesConfigShape);
export type PagesConfig = z.infer<typeof _pagesConfigObject>;
