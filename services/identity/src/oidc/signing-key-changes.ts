import pg from 'pg';
import type { Logger } from '@rampart/platform';
import { SIGNING_KEYS_CHANGED_CHANNEL } from './signing-keys.consumer.js';

/**
 * Tells this replica when key-management changed the token-signing keys: LISTENs, on a dedicated
 * session, for the notification `signingKeysConsumer` sends. After the session drops (and comes
 * back) it reports a change too, since one may have been missed meanwhile. The periodic refresh
 * of TokenSigningKeys stays as the safety net: this only makes the common case prompt.
 */
export class SigningKeyChanges {
  private session: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      databaseUrl: string;
      logger: Logger;
      onChange: () => void;
      /** Pause before listening again after the session dropped (default 5 s). */
      reconnectMs?: number;
    },
  ) {}

  /** Starts listening; a failure to connect is logged and retried, never fatal. */
  async start(): Promise<void> {
    await this.listen(false);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const session = this.session;
    this.session = undefined;
    await session?.end().catch(() => undefined);
  }

  private async listen(reconnecting: boolean): Promise<void> {
    // keepAlive: a half-open session would otherwise go deaf unnoticed.
    const session = new pg.Client({ connectionString: this.options.databaseUrl, keepAlive: true });
    session.on('notification', () => this.options.onChange());
    session.on('error', (error) => this.dropped(session, error));
    session.on('end', () => this.dropped(session, undefined));
    try {
      await session.connect();
      await session.query(`LISTEN ${SIGNING_KEYS_CHANGED_CHANNEL}`);
    } catch (error) {
      this.dropped(session, error);
      return;
    }
    if (this.stopped) {
      await session.end().catch(() => undefined);
      return;
    }
    this.session = session;
    if (reconnecting) this.options.onChange();
  }

  private dropped(session: pg.Client, error: unknown): void {
    // Once per drop: `error` and `end` both come, and an old session's end is not news.
    if (this.stopped || this.retry !== undefined) return;
    if (this.session !== undefined && this.session !== session) return;
    this.session = undefined;
    void session.end().catch(() => undefined);
    this.options.logger.warn(
      { err: error },
      'not listening for signing-key changes; listening again shortly',
    );
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listen(true);
    }, this.options.reconnectMs ?? 5_000);
    this.retry.unref();
  }
}
