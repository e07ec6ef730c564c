import { z } from 'zod';

/** Environment variables of the pages (merged into the identity config). */
export const pagesConfigShape = {
  /**
   * Who may create an account on the sign-up page: `open` (anyone), `invite` (only with an
   * invitation link, bound to one e-mail address) or `closed` (accounts are provisioned through
   * SCIM or the admin API).
   */
  IDENTITY_REGISTRATION: z.enum(['open', 'invite', 'closed']).default('open'),
};

const _pagesConfigObject = z.object(pagesConfigShape);
export type PagesConfig = z.infer<typeof _pagesConfigObject>;
