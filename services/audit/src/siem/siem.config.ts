import { z } from 'zod';

/** RFC 5424 section 6.2.1 facility codes, by the names syslog configurations use. */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** Environment variables of the SIEM forwarder (merged into the audit config). */
export const siemConfigShape = {
  /**
   * The SIEM's syslog receiver, `tls://host:6514` (RFC 5425) or, outside production,
   * `tcp://host:514` (RFC 6587). Unset: nothing is forwarded.
   */
  AUDIT_SYSLOG_URL: z
    .url({ protocol: /^(tls|tcp)$/ })
    .refine((value) => new URL(value).port !== '', 'needs a port, e.g. tls://siem.example:6514')
    .optional(),
  /** PEM file of the CA certificates the receiver's certificate must chain to. Unset: Node's CAs. */
  AUDIT_SYSLOG_CA_FILE: z.string().min(1).optional(),
  /** Client certificate and key (PEM files) for a receiver that requires mutual TLS. */
  AUDIT_SYSLOG_CERT_FILE: z.string().min(1).optional(),
  AUDIT_SYSLOG_KEY_FILE: z.string().min(1).optional(),
  /**
   * Checks the receiver's certificate (chain and name). Only development may turn it off (a local
   * receiver with a certificate nobody issued); production refuses it.
   */
  AUDIT_SYSLOG_TLS_VERIFY: booleanFlag.default(true),
  /** What MSG holds: `rfc5424` (the OCSF record as JSON) or `cef` (ArcSight Common Event Format). */
  AUDIT_SYSLOG_FORMAT: z.enum(['rfc5424', 'cef']).default('rfc5424'),
  /** The facility of every message: a name (`authpriv`, `local0`...) or its code 0-23. */
  AUDIT_SYSLOG_FACILITY: z
    .string()
    .transform((value, context) => {
      const code = /^\d{1,2}$/.test(value)
        ? Number(value)
        : (SYSLOG_FACILITIES as Record<string, number>)[value.toLowerCase()];
      if (code === undefined || code > 23) {
        context.addIssue({ code: 'custom', message: 'a facility name (e.g. authpriv) or 0-23' });
        return z.NEVER;
      }
      return code;
    })
    .default(SYSLOG_FACILITIES.authpriv),
  /** HOSTNAME of every message. Default: this machine's host name. */
  AUDIT_SYSLOG_HOSTNAME: z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 printable ASCII characters, no spaces')
    .optional(),
  /** Records read from the log and sent per round; the most held in memory at once. */
  AUDIT_SYSLOG_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
};

const _siemConfigObject = z.object(siemConfigShape);
export type SiemConfig = z.infer<typeof _siemConfigObject>;

/** Cross-field rules, for the service schema's superRefine. */
export function checkSiemConfig(
  config: SiemConfig & { RAMPART_MODE: 'development' | 'production' },
  issue: (variable: string, message: string) => void,
): void {
  if (Boolean(config.AUDIT_SYSLOG_CERT_FILE) !== Boolean(config.AUDIT_SYSLOG_KEY_FILE)) {
    issue(
      config.AUDIT_SYSLOG_CERT_FILE ? 'AUDIT_SYSLOG_KEY_FILE' : 'AUDIT_SYSLOG_CERT_FILE',
      'AUDIT_SYSLOG_CERT_FILE and AUDIT_SYSLOG_KEY_FILE are set together',
    );
  }
  if (config.RAMPART_MODE !== 'production' || !config.AUDIT_SYSLOG_URL) return;
  if (config.AUDIT_SYSLOG_URL.startsWith('tcp:')) {
    issue(
      'AUDIT_SYSLOG_URL',
      'plain TCP is refused when RAMPART_MODE=production: use tls:// (RFC 5425)',
    );
  }
  if (!config.AUDIT_SYSLOG_TLS_VERIFY) {
    issue(
      'AUDIT_SYSLOG_TLS_VERIFY',
      'an unverified receiver is refused when RAMPART_MODE=production: trust its CA with AUDIT_SYSLOG_CA_FILE',
    );
  }
}
