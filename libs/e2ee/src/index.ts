/**
 * End-to-end encryption and sharing for Rampart clients. WebCrypto only (`globalThis.crypto`) and
 * `jose`, so it runs unchanged in browsers and in Node; see docs/adr/0013.
 */
export * from './web-crypto.js';
export * from './encoding.js';
export * from './errors.js';
export * from './wrap-keys.js';
export * from './envelope.js';
export * from './wrap.js';
export * from './client.js';
export * from './secure-sharing.js';
