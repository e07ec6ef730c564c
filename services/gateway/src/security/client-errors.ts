import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemType } from '@rampart/contracts';
import { API_POLICY } from './content-security-policy.js';
import { STATIC_SECURITY_HEADERS } from './security-headers.js';

/** Node's parser errors that mean "headers too large" (RFC 6585 431); any other is a 400. */
const HEADER_TOO_LARGE = new Set(['HPE_HEADER_OVERFLOW']);

/**
 * Requests Node's HTTP parser rejects (a bad method, invalid header characters, headers over
 * `maxHeaderSize`) never reach Fastify. Fastify's own handler answers them with plain JSON; this
 * one answers with a problem document carrying the same security headers as every other response,
 * names nothing about the parser, and closes only that connection.
 */
export function answerMalformedRequests(server: Server): void {
  server.removeAllListeners('clientError');
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = HEADER_TOO_LARGE.has(error.code ?? '') ? 431 : 400;
    const body = JSON.stringify({
      type: problemType('bad-request'),
      title: STATUS_CODES[status],
      status,
      code: 'bad-request',
    });
    const headers = {
      ...STATIC_SECURITY_HEADERS,
      'content-security-policy': API_POLICY,
      'cache-control': 'no-store',
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        Object.entries(headers)
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('') +
        `\r\n${body}`,
    );
  });
}
