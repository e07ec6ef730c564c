import { ValidationFailedError } from '@rampart/platform';

/** One message to one recipient. `text` is required so every client can read it; `html` is optional. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * Sends mail. Messages carry secrets (verification links), so implementations never log `text` or
 * `html`: only the message id and the recipient's domain.
 */
export interface Mailer {
  /** Sends `message` and returns its Message-ID. */
  send(message: MailMessage): Promise<string>;
  /** Releases connections; the mailer is unusable afterwards. */
  close(): Promise<void>;
}

/** Injection token of the configured Mailer. */
export const MAILER = Symbol('rampart.identity.mailer');

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/**
 * A deliberately narrow address: one dot-atom-like local part (no quotes, comments, brackets or
 * separators, so a single string can never name several recipients) and a DNS domain with a dot.
 */
const ADDRESS = new RegExp(`^[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]{1,64}@${LABEL}(?:\\.${LABEL})+$`);
/** C0 controls (CR and LF among them) and DEL: each could split or forge a header. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isMailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

/** The part after `@`, the only piece of an address we log. */
export function recipientDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Refuses what could inject headers or reach someone unintended: control characters in the
 * recipient or subject, and anything but a single plain address. Bodies are free text.
 */
export function assertSendable(message: MailMessage): void {
  const issues: { path: string; message: string }[] = [];
  if (CONTROL.test(message.to) || !isMailAddress(message.to)) {
    issues.push({ path: 'to', message: 'must be a single plain e-mail address' });
  }
  if (CONTROL.test(message.subject)) {
    issues.push({ path: 'subject', message: 'must not contain control characters (CR, LF, ...)' });
  }
  if (message.subject.length > 998) {
    issues.push({ path: 'subject', message: 'must be at most 998 characters' });
  }
  if (issues.length > 0) throw new ValidationFailedError(issues);
}

/**
 * Parses a sender, `address` or `Display Name <address>`, as IDENTITY_MAIL_FROM accepts it.
 * Returns undefined when it is not one.
 */
export function parseSender(value: string): { name?: string; address: string } | undefined {
  if (CONTROL.test(value)) return undefined;
  const named = /^([^<>"\\]*)<([^<>]+)>$/.exec(value.trim());
  const name = named?.[1]?.trim();
  const address = named ? named[2]! : value.trim();
  if (!isMailAddress(address)) return undefined;
  return name ? { name, address } : { address };
}
