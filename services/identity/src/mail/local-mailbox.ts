import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@rampart/platform';
import { assertSendable, recipientDomain, type MailMessage, type Mailer } from './mailer.js';

/** A message as the local mailbox stores it (one JSON file each). */
export interface StoredMail extends MailMessage {
  messageId: string;
  from: string;
  /** ISO 8601, when it was "sent". */
  date: string;
}

const FILE = /^(\d{13})-([0-9a-f-]{36})\.json$/;

/**
 * The development and all-in-one mailer: instead of sending, it writes each message to a folder a
 * developer can read (`list`, `read`, or the JSON files themselves). Files are 0600 and the folder
 * 0700 because messages carry verification links. Refused in production mode by the config.
 */
export class LocalMailbox implements Mailer {
  constructor(
    readonly directory: string,
    private readonly from: string,
    private readonly logger?: Logger,
  ) {}

  async send(message: MailMessage): Promise<string> {
    assertSendable(message);
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await chmod(this.directory, 0o700);
    const id = randomUUID();
    const stored: StoredMail = {
      messageId: `<${id}@rampart.mailbox>`,
      date: new Date().toISOString(),
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
    };
    // The millisecond prefix sorts files by arrival; the temporary name keeps readers from seeing
    // half a message, and `wx` refuses to follow or overwrite anything already there.
    const name = `${Date.now()}-${id}.json`;
    const temporary = join(this.directory, `.${name}.tmp`);
    await writeFile(temporary, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    await rename(temporary, join(this.directory, name));
    this.logger?.info(
      { messageId: stored.messageId, recipientDomain: recipientDomain(message.to) },
      `mail written to the local mailbox ${this.directory}`,
    );
    return stored.messageId;
  }

  /** Every stored message, oldest first; optionally only those to `to` (case-insensitive). */
  async list(to?: string): Promise<StoredMail[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = names.filter((name) => FILE.test(name)).sort();
    const messages = await Promise.all(
      files.map(
        async (name) =>
          JSON.parse(await readFile(join(this.directory, name), 'utf8')) as StoredMail,
      ),
    );
    return to === undefined
      ? messages
      : messages.filter((mail) => mail.to.toLowerCase() === to.toLowerCase());
  }

  /** The message with this Message-ID, or undefined. */
  async read(messageId: string): Promise<StoredMail | undefined> {
    return (await this.list()).find((mail) => mail.messageId === messageId);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
