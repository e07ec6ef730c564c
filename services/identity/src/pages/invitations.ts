import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** An invitation to register, as its link carries it. */
export interface Invitation {
  /** The one address the account may be created with (lower case). */
  email: string;
  /** Expiry, epoch seconds. */
  expiresAt: number;
}

/**
 * Invitations for `IDENTITY_REGISTRATION=invite`: a signed, expiring token naming one e-mail
 * address, `base64url(json).base64url(hmac)`. Nothing is stored: the account's e-mail address is
 * unique, so an invitation creates at most one account, and the address must still be verified
 * by mail. Whoever may invite (an administrator, through the admin API) calls `create`.
 */
export class Invitations {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, '', 'rampart pages invitation v1', 32));
  }

  create(email: string, ttlSeconds: number, now = Date.now()): string {
    const payload = Buffer.from(
      JSON.stringify({
        email: email.trim().toLowerCase(),
        expiresAt: Math.floor(now / 1000) + ttlSeconds,
      } satisfies Invitation),
    ).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  /** The invitation, or undefined when the token is malformed, forged or expired. */
  read(token: string | undefined, now = Date.now()): Invitation | undefined {
    if (!token || token.length > 1024) return undefined;
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const invitation = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
      if (
        typeof invitation !== 'object' ||
        invitation === null ||
        typeof (invitation as Invitation).email !== 'string' ||
        typeof (invitation as Invitation).expiresAt !== 'number'
      ) {
        return undefined;
      }
      const { email, expiresAt } = invitation as Invitation;
      return expiresAt * 1000 > now ? { email, expiresAt } : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
