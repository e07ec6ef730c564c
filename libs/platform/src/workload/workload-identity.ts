import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  decodeProtectedHeader,
  type CryptoKey,
  type JWK,
} from 'jose';
import { assertPrivateFile } from './private-file.js';
import { encryptionKeyFileName, ensureWorkloadEncryptionKey } from './workload-encryption.js';

/**
 * Workload identity between services, JWT-SVID style: each service holds its own Ed25519 key and
 * sends a short-lived assertion whose audience is the service it calls. The receiver trusts only
 * the public keys in its allowlist; nothing is trusted for being local.
 */
export const WORKLOAD_ASSERTION_HEADER = 'rampart-workload-assertion';
const ALGORITHM = 'EdDSA';
/** Explicit typing (RFC 8725 3.11): no other EdDSA JWT of ours can pass for an assertion. */
const ASSERTION_TYPE = 'rampart-workload+jwt';
const ASSERTION_TTL_SECONDS = 60;
const MAX_CLOCK_SKEW_SECONDS = 5;
const VERIFIED_CACHE_LIMIT = 10_000;

export function workloadId(service: string): string {
  return `spiffe://rampart/service/${service}`;
}

export class WorkloadSigner {
  private cached: { token: string; audience: string; expires: number }[] = [];

  constructor(
    readonly service: string,
    private readonly privateKey: CryptoKey,
  ) {}

  /** An assertion for calling `audience`; reused while it has more than half its life left. */
  async assertionFor(audience: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const hit = this.cached.find(
      (entry) => entry.audience === audience && entry.expires - now > ASSERTION_TTL_SECONDS / 2,
    );
    if (hit) return hit.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: ASSERTION_TYPE, kid: this.service })
      .setIssuer(workloadId(this.service))
      .setSubject(workloadId(this.service))
      .setAudience(workloadId(audience))
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_TTL_SECONDS)
      .setJti(crypto.randomUUID())
      .sign(this.privateKey);
    this.cached = [
      ...this.cached.filter((entry) => entry.audience !== audience),
      { token, audience, expires: now + ASSERTION_TTL_SECONDS },
    ];
    return token;
  }
}

export type WorkloadVerification =
  | { ok: true; caller: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'untrusted' | 'invalid' };

export class WorkloadVerifier {
  constructor(
    readonly service: string,
    /** Caller service name -> its public key. */
    private readonly trusted: ReadonlyMap<string, CryptoKey>,
  ) {}

  /**
   * Assertions already verified, until they expire: callers reuse one for half its life, so the
   * signature is checked once per assertion rather than once per request.
   */
  private readonly verified = new Map<string, { caller: string; expiresAt: number }>();

  async verify(assertion: string | undefined): Promise<WorkloadVerification> {
    if (!assertion) return { ok: false, reason: 'missing' };
    const known = this.verified.get(assertion);
    if (known) {
      if (Date.now() < known.expiresAt) return { ok: true, caller: known.caller };
      this.verified.delete(assertion);
    }
    const result = await this.verifySignature(assertion);
    if (result.ok) this.remember(assertion, result.caller, result.expiresAt);
    return result.ok ? { ok: true, caller: result.caller } : result;
  }

  private remember(assertion: string, caller: string, expiresAt: number): void {
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) {
      const now = Date.now();
      for (const [token, entry] of this.verified)
        if (entry.expiresAt <= now) this.verified.delete(token);
      if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    }
    this.verified.set(assertion, { caller, expiresAt });
  }

  private async verifySignature(
    assertion: string,
  ): Promise<
    | { ok: true; caller: string; expiresAt: number }
    | { ok: false; reason: 'malformed' | 'untrusted' | 'invalid' }
  > {
    let caller: string;
    try {
      const header = decodeProtectedHeader(assertion);
      if (header.alg !== ALGORITHM || typeof header.kid !== 'string')
        return { ok: false, reason: 'malformed' };
      caller = header.kid;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const key = this.trusted.get(caller);
    if (!key) return { ok: false, reason: 'untrusted' };
    try {
      const { payload } = await jwtVerify(assertion, key, {
        algorithms: [ALGORITHM],
        typ: ASSERTION_TYPE,
        issuer: workloadId(caller),
        subject: workloadId(caller),
        audience: workloadId(this.service),
        maxTokenAge: ASSERTION_TTL_SECONDS + MAX_CLOCK_SKEW_SECONDS,
        clockTolerance: MAX_CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'jti'],
      });
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > ASSERTION_TTL_SECONDS)
        return { ok: false, reason: 'invalid' };
      // Trusted until its own expiry (plus the same skew jwtVerify allows), never longer.
      return { ok: true, caller, expiresAt: ((payload.exp ?? 0) + MAX_CLOCK_SKEW_SECONDS) * 1000 };
    } catch {
      return { ok: false, reason: 'invalid' };
    }
  }
}

export { assertPrivateFile } from './private-file.js';

/** Loads the service's private key (a JWK file that only its owner may read). */
export async function loadWorkloadSigner(
  service: string,
  keyFile: string,
): Promise<WorkloadSigner> {
  await assertPrivateFile(keyFile);
  const jwk = JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
  const key = await importJWK(jwk, ALGORITHM);
  if (!('type' in key) || key.type !== 'private')
    throw new Error(`${keyFile} does not hold a private key`);
  return new WorkloadSigner(service, key);
}

/** Loads the allowlist: every `<service>.pub.jwk` in `trustDir`. */
export async function loadWorkloadVerifier(
  service: string,
  trustDir: string,
): Promise<WorkloadVerifier> {
  const trusted = new Map<string, CryptoKey>();
  for (const file of await readdir(trustDir)) {
    const match = /^([a-z][a-z-]*)\.pub\.jwk$/.exec(file);
    if (!match?.[1]) continue;
    const jwk = JSON.parse(await readFile(join(trustDir, file), 'utf8')) as JWK;
    if (jwk.d) throw new Error(`${file} in the workload trust folder holds a private key`);
    trusted.set(match[1], (await importJWK(jwk, ALGORITHM)) as CryptoKey);
  }
  return new WorkloadVerifier(service, trusted);
}

/**
 * All-in-one and development: creates a signing key pair and an encryption key pair per service on
 * first start (private keys 0600, public keys in the shared trust folder). Existing keys are kept,
 * and a folder from before encryption keys gains them.
 */
export async function ensureWorkloadKeys(
  directory: string,
  services: readonly string[],
): Promise<{
  keyFile: (service: string) => string;
  /** The service's private encryption key (see workload-encryption.ts). */
  encryptionKeyFile: (service: string) => string;
  trustDir: string;
}> {
  const privateDir = join(directory, 'private');
  const trustDir = join(directory, 'trust');
  await mkdir(privateDir, { recursive: true, mode: 0o700 });
  await mkdir(trustDir, { recursive: true, mode: 0o755 });
  await chmod(privateDir, 0o700);
  const keyFile = (service: string) => join(privateDir, `${service}.jwk`);
  for (const service of services) {
    const present = (path: string) =>
      stat(path).then(
        () => true,
        () => false,
      );
    // Both halves, or a new pair: a private key without its public half would never be trusted.
    if ((await present(keyFile(service))) && (await present(join(trustDir, `${service}.pub.jwk`))))
      continue;
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, {
      crv: 'Ed25519',
      extractable: true,
    });
    await writeFile(keyFile(service), JSON.stringify(await exportJWK(privateKey)), { mode: 0o600 });
    await writeFile(
      join(trustDir, `${service}.pub.jwk`),
      JSON.stringify(await exportJWK(publicKey)),
      {
        mode: 0o644,
      },
    );
  }
  for (const service of services) await ensureWorkloadEncryptionKey(privateDir, trustDir, service);
  return {
    keyFile,
    encryptionKeyFile: (service) => join(privateDir, encryptionKeyFileName(service)),
    trustDir,
  };
}
