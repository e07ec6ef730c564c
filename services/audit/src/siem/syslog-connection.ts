import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** Where and how to connect: the parsed AUDIT_SYSLOG_* settings. */
export interface SyslogTarget {
  host: string;
  port: number;
  /** TLS settings (RFC 5425); undefined for plain TCP (RFC 6587, development only). */
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
}

/** How long a connection attempt or a batch's write may take before it counts as failed. */
export const SYSLOG_TIMEOUT_MS = 15_000;

/**
 * One connection to a syslog receiver. Syslog over TCP has no acknowledgement: `send` resolves
 * when the socket has handed the bytes to the operating system, which is as much as the protocol
 * can tell. Any error or close marks the connection broken; the caller opens a new one.
 */
export class SyslogConnection {
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    // Without a listener an error would be thrown from the event loop; here it only breaks us.
    socket.on('error', (error) => (this.failure ??= error));
    socket.on(
      'close',
      () => (this.failure ??= new Error('the syslog receiver closed the connection')),
    );
    // Receivers never write to a sender; read and drop anything so the socket cannot stall.
    socket.resume();
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Why the connection broke, for the log. */
  get reason(): string | undefined {
    return this.failure?.message;
  }

  /**
   * Connects, over TLS 1.2 or later with the receiver's certificate verified unless `tls`
   * says otherwise. Rejects on a refused connection, a failed handshake or the timeout.
   */
  static open(target: SyslogTarget, timeoutMs = SYSLOG_TIMEOUT_MS): Promise<SyslogConnection> {
    return new Promise((resolve, reject) => {
      const socket = target.tls
        ? tlsConnect({
            host: target.host,
            port: target.port,
            minVersion: 'TLSv1.2',
            ...target.tls,
            // Node checks the certificate's name against `servername`, which defaults to `host`.
          })
        : tcpConnect({ host: target.host, port: target.port });
      // Kept after failing: a destroyed socket may still report a second error.
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`no syslog connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on('error', fail);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        const connection = new SyslogConnection(socket);
        socket.off('error', fail);
        resolve(connection);
      });
    });
  }

  /** Writes `bytes`; resolves once they were handed to the OS, rejects if the connection broke. */
  send(bytes: Buffer, timeoutMs = SYSLOG_TIMEOUT_MS): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.failure ??= new Error(`the syslog receiver took no data for ${timeoutMs} ms`);
        this.socket.destroy();
        reject(this.failure);
      }, timeoutMs);
      this.socket.write(bytes, (error) => {
        clearTimeout(timer);
        if (error) {
          this.failure ??= error;
          reject(error);
        } else if (this.failure) reject(this.failure);
        else resolve();
      });
    });
  }

  /** Flushes what was written and closes; never rejects. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A receiver that never finishes the close must not hold up shutdown.
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    });
  }
}
