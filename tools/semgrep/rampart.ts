// Cases of tools/semgrep/rampart.yml, checked by `semgrep --test tools/semgrep`.
import { createHash, randomBytes } from 'node:crypto';
import * as crypto from 'node:crypto';
import tls from 'node:tls';

// ruleid: rampart-tls-verification-off
tls.connect({ host: 'siem', port: 6514, rejectUnauthorized: false });
// ok: rampart-tls-verification-off
tls.connect({ host: 'siem', port: 6514, rejectUnauthorized: true });
// ruleid: rampart-tls-verification-off
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

// ruleid: rampart-dynamic-code
eval('1 + 1');
// ruleid: rampart-dynamic-code
const adder = new Function('a', 'b', 'return a + b');
// ok: rampart-dynamic-code
setTimeout(() => adder, 10);

// ruleid: rampart-weak-hash
createHash('md5').update('x').digest();
// ruleid: rampart-weak-hash
crypto.createHash('sha1').update('x').digest();
// ok: rampart-weak-hash
createHash('sha256').update('x').digest();

// ruleid: rampart-insecure-randomness
const token = Math.random().toString(36);
// ok: rampart-insecure-randomness
const nonce = randomBytes(16).toString('base64url');

// ruleid: rampart-unsigned-jwt
const header = { alg: 'none', typ: 'JWT' };
// ruleid: rampart-unsigned-jwt
const verifyOptions = { algorithms: ['ES256', 'none'] };
// ok: rampart-unsigned-jwt
const signed = { alg: 'ES256', typ: 'JWT' };

declare const reply: { header(name: string, value: string): void };
// ruleid: rampart-cors-wildcard
reply.header('access-control-allow-origin', '*');
// ruleid: rampart-cors-wildcard
const cors = { origin: '*', credentials: true };
// ok: rampart-cors-wildcard
reply.header('access-control-allow-origin', 'https://app.example');

declare const element: { innerHTML: string; textContent: string };
// ruleid: rampart-html-sink
element.innerHTML = token;
// ok: rampart-html-sink
element.textContent = token;

export { header, verifyOptions, signed, cors, nonce };
