/**
 * WebCrypto's key type, named through `crypto.subtle` rather than the global `CryptoKey`: the DOM
 * types and Node's types both describe `crypto.subtle`, but only the DOM declares `CryptoKey` as a
 * type, and this library is typechecked by browser and Node projects alike.
 */
export type WebCryptoKey = Parameters<typeof crypto.subtle.encrypt>[1];
