import { z } from 'zod';

/** Environment variables of accounts (merged into the identity config). */
export const accountsConfigShape = {
  /**
   * The public base URL of the identity service (the OpenID issuer). Links in mail, such as the
   * e-mail verification link, point below it.
   */
  RAMPART_ISSUER: z
    .url()
    .default('http://localhost:8080')
    .transform((url) => url.replace(/\/+$/, '')),
};

const _accountsConfigObject = z.object(accountsConfigShape);
export type AccountsConfig = z.infer<typeof _accountsConfigObject>;
