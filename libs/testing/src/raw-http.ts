import { connect } from 'node:net';

/**
 * Sends raw bytes to a local HTTP server, for requests no HTTP client would send (malformed,
 * chunked by hand, a GET with a body). Answers what came back: everything until the server closed
 * the connection, or with `headersOnly` just the status line and headers (the connection is then
 * dropped, for servers that keep it open).
 */
export function rawHttpExchange(
  port: number,
  bytes: string,
  { headersOnly = false }: { headersOnly?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (headersOnly && answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}
