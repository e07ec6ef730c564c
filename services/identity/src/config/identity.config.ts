import type { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';
import { accountsConfigShape } from '../accounts/accounts.config.js';
import { checkMailConfig, mailConfigShape } from '../mail/mail.config.js';
import { checkOidcConfig, oidcConfigShape } from '../oidc/oidc.config.js';
import { checkPasswordConfig, passwordConfigShape } from '../passwords/password.config.js';
import { pagesConfigShape } from '../pages/pages.config.js';

/** Environment of the identity service (fields; the schema below adds cross-field rules). */
export const identityConfigFields = dataServiceConfigSchema.extend({
  ...passwordConfigShape,
  ...mailConfigShape,
  ...accountsConfigShape,
  ...oidcConfigShape,
  ...pagesConfigShape,
});

/** Environment of the identity service; its own variables are added here as features land. */
export const identityConfigSchema = identityConfigFields.superRefine((config, context) => {
  const issue = (variable: string, message: string) =>
    context.addIssue({ code: 'custom', path: [variable], message });
  checkPasswordConfig(config, issue);
  checkMailConfig(config, issue);
  checkOidcConfig(config, issue);
});

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
