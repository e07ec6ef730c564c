import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

/** PEM texts of a throw-away PKI made with the system's openssl, and the folder holding them. */
export interface TestPki {
  dir: string;
  /** Files, for the AUDIT_SYSLOG_* variables. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** Self-signed for 127.0.0.1: valid for the name, issued by nobody the forwarder trusts. */
  rogue: { cert: string; key: string };
  remove(): Promise<void>;
}

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A CA, a server certificate for 127.0.0.1 and a client certificate it issued, and a rogue one. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'rampart-syslog-tls-'));
  const file = (name: string) => join(dir, name);
  const output = (name: string, out = file(`${name}.pem`)) => [
    ...['-keyout', file(`${name}.key`), '-out', out],
  ];
  const selfSigned = (name: string, subject: string, extensions: string[]) =>
    run('openssl', [
      ...['req', '-x509', ...EC, '-days', '1', '-subj', subject],
      ...extensions.flatMap((extension) => ['-addext', extension]),
      ...output(name),
    ]);
  const issued = async (name: string, subject: string, extensions: string) => {
    await writeFile(file(`${name}.ext`), extensions);
    const request = file(`${name}.csr`);
    await run('openssl', [...['req', '-new', ...EC, '-subj', subject], ...output(name, request)]);
    await run('openssl', [
      ...['x509', '-req', '-in', request, '-days', '1', '-extfile', file(`${name}.ext`)],
      ...['-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial'],
      ...['-out', file(`${name}.pem`)],
    ]);
  };
  await selfSigned('ca', '/CN=Rampart syslog test CA', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await issued(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  await issued('client', '/CN=audit', 'extendedKeyUsage=clientAuth\n');
  await selfSigned('rogue', '/CN=127.0.0.1', ['subjectAltName=IP:127.0.0.1']);
  const read = (name: string) => readFile(file(name), 'utf8');
  return {
    dir,
    caFile: file('ca.pem'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
    ca: await read('ca.pem'),
    server: { cert: await read('server.pem'), key: await read('server.key') },
    client: { cert: await read('client.pem'), key: await read('client.key') },
    rogue: { cert: await read('rogue.pem'), key: await read('rogue.key') },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One message as an RFC 5425 receiver takes it off the wire. */
export interface ReceivedFrame {
  /** The MSG-LEN the frame declared. */
  declared: number;
  message: Buffer;
  /** The client certificate's subject CN, when the receiver asked for one. */
  clientCn: string | undefined;
}

export interface SyslogReceiver {
  readonly port: number;
  readonly frames: ReceivedFrame[];
  /** Bytes taken by any connection, framed or not. */
  readonly bytes: number;
  /** Frames that did not parse (a length that is not digits, or a connection ending mid-frame). */
  readonly framingErrors: string[];
  /** Resolves once `count` frames arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedFrame[]>;
  close(): Promise<void>;
}

/**
 * A real RFC 5425 receiver on node:tls: reads octet-counted frames (`MSG-LEN SP MSG`) from every
 * connection, as rsyslog's imtcp or syslog-ng's network() source would.
 */
export async function startSyslogReceiver(options: {
  cert: string;
  key: string;
  /** Ask for a client certificate issued by this CA, and refuse a connection without one. */
  clientCa?: string;
  port?: number;
}): Promise<SyslogReceiver> {
  const frames: ReceivedFrame[] = [];
  const framingErrors: string[] = [];
  const sockets = new Set<TLSSocket>();
  let bytes = 0;
  const server = createServer(
    {
      cert: options.cert,
      key: options.key,
      ...(options.clientCa
        ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true }
        : {}),
    },
    (socket) => {
      sockets.add(socket);
      const peer = socket.getPeerCertificate();
      const clientCn = typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined;
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const space = pending.indexOf(0x20);
          if (space < 0) break;
          const length = pending.subarray(0, space).toString('latin1');
          if (!/^[1-9]\d{0,8}$/.test(length)) {
            framingErrors.push(`not a MSG-LEN: ${JSON.stringify(length.slice(0, 20))}`);
            socket.destroy();
            return;
          }
          const end = space + 1 + Number(length);
          if (pending.length < end) break;
          frames.push({
            declared: Number(length),
            message: pending.subarray(space + 1, end),
            clientCn,
          });
          pending = pending.subarray(end);
        }
      });
      socket.on('end', () => {
        if (pending.length > 0) framingErrors.push(`${pending.length} bytes left mid-frame`);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    frames,
    get bytes() {
      return bytes;
    },
    framingErrors,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (frames.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`${frames.length} of ${count} syslog frames within ${timeoutMs} ms`);
        }
        await sleep(20);
      }
      return frames;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The parts of an RFC 5424 message, as a receiver's parser splits them. */
export interface ParsedSyslog {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sdId: string;
  params: Record<string, string>;
  /** MSG as bytes, BOM included when there is one. */
  msg: Buffer;
}

/**
 * Parses an RFC 5424 message with one SD-ELEMENT, unescaping `\"`, `\\` and `\]` in values the
 * way section 6.3.3 says, independently of the formatter's code.
 */
export function parseSyslog(message: Buffer): ParsedSyslog {
  const text = message.toString('latin1'); // byte offsets = character offsets
  const header = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) \[/.exec(text);
  if (!header) throw new Error(`not an RFC 5424 header: ${text.slice(0, 80)}`);
  let index = header[0].length;
  const sdId = /^[^ =\]"]+/.exec(text.slice(index))![0];
  index += sdId.length;
  const params: Record<string, string> = {};
  while (text[index] === ' ') {
    const name = /^ ([^ =\]"]+)="/.exec(text.slice(index));
    if (!name) throw new Error(`bad SD-PARAM at ${index}`);
    index += name[0].length;
    const value: number[] = [];
    for (;;) {
      const byte = message[index]!;
      if (byte === 0x5c && [0x22, 0x5c, 0x5d].includes(message[index + 1]!)) {
        value.push(message[index + 1]!);
        index += 2;
      } else if (byte === 0x22) {
        index += 1;
        break;
      } else {
        value.push(byte);
        index += 1;
      }
    }
    params[name[1]!] = Buffer.from(value).toString('utf8');
  }
  if (text[index] !== ']' || text[index + 1] !== ' ') throw new Error(`SD not closed at ${index}`);
  return {
    pri: Number(header[1]),
    version: header[2]!,
    timestamp: header[3]!,
    hostname: header[4]!,
    appName: header[5]!,
    procId: header[6]!,
    msgId: header[7]!,
    sdId,
    params,
    msg: message.subarray(index + 2),
  };
}
