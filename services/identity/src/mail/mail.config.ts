import { z } from 'zod';
import { parseSender } from './mailer.js';

/** Environment variables of outgoing mail (merged into the identity config). */
export const mailConfigShape = {
  /**
   * The SMTP relay, `smtps://user:pass@host:465` (implicit TLS) or `smtp://user:pass@host:587`
   * (STARTTLS). Unset: messages go to the local mailbox, which production mode refuses.
   */
  IDENTITY_SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  /**
   * For `smtp://`: send only after STARTTLS. Only development may turn it off (a local mail
   * catcher without TLS); production refuses plain SMTP.
   */
  IDENTITY_SMTP_REQUIRE_TLS: z
    .enum(['true', 'false', '1', '0'])
    .transform((value) => value === 'true' || value === '1')
    .default(true),
  /** The From header, `address` or `Name <address>`; required in production. */
  IDENTITY_MAIL_FROM: z
    .string()
    .refine((value) => parseSender(value) !== undefined, 'must be `address` or `Name <address>`')
    .optional(),
  /** Folder of the local mailbox (development and all-in-one), relative to the working directory. */
  IDENTITY_MAILBOX_DIR: z.string().min(1).default('.rampart/mailbox'),
};

const _mailConfigObject = z.object(mailConfigShape);
export type MailConfig = z.infer<typeof _mailConfigObject>;

/** The sender when IDENTITY_MAIL_FROM is unset (development only). */
export const DEVELOPMENT_MAIL_FROM = 'Rampart <no-reply@rampart.localhost>';

/** Cross-field rules, for the service schema's superRefine. */
export function checkMailConfig(
  config: MailConfig & { RAMPART_MODE: 'development' | 'production' },
  issue: (variable: string, message: string) => void,
): void {
  if (config.RAMPART_MODE !== 'production') return;
  if (!config.IDENTITY_SMTP_URL) {
    issue(
      'IDENTITY_SMTP_URL',
      'required when RAMPART_MODE=production (the local mailbox serves development and all-in-one only)',
    );
    return;
  }
  if (config.IDENTITY_SMTP_URL.startsWith('smtp:') && !config.IDENTITY_SMTP_REQUIRE_TLS) {
    issue(
      'IDENTITY_SMTP_REQUIRE_TLS',
      'plain SMTP is refused when RAMPART_MODE=production: use smtps:// or keep STARTTLS required',
    );
  }
  if (!config.IDENTITY_MAIL_FROM) {
    issue('IDENTITY_MAIL_FROM', 'required when RAMPART_MODE=production');
  }
}
