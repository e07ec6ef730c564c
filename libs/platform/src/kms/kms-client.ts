import { Pool, errors as undiciErrors } from 'undici';
import { z } from 'zod';
import { ERROR_CODES, PROBLEM_CONTENT_TYPE, type ErrorCode } from '@rampart/contracts';
import { RampartError } from '../errors/rampart-error.js';
import { WORKLOAD_ASSERTION_HEADER, type WorkloadSigner } from '../workload/workload-identity.js';

export interface KmsClientOptions {
  /** Where key-management listens (its own URL, or the gateway's); may carry a path prefix. */
  baseUrl: string | URL;
  /** Signs this service's workload assertions for the `rampart-workload-assertion` header. */
  signer: WorkloadSigner;
  /** The key-management service's workload name (the assertions' audience). */
  audience?: string;
  /** Keep-alive connections to the KMS. */
  connections?: number;
  /** Per request, from sending it to the end of the response body. */
  timeoutMs?: number;
}

export interface DataSubject {
  tenant: string;
  subject: string;
}

export interface DataKey {
  keyName: string;
  keyVersion: number;
  /** The data key itself: use it, zero it (`fill(0)`), never store it. */
  plaintext: Buffer;
  /** The data key wrapped under the KMS key: store it beside the data. */
  ciphertext: Buffer;
}

/**
 * Answers of the KMS the calling service can act on keep their code: the caller gave the wrong
 * context or tampered bytes (`decryption-failed`), the key version is disabled
 * (`failed-precondition`) or destroyed (`key-destroyed`: the data is gone for good). Anything
 * else (unknown key, refused assertion, KMS failure) is this service's upstream failing, which its
 * own callers see as `bad-gateway`, `service-unavailable` or `gateway-timeout`.
 */
const KEPT_CODES: ReadonlySet<string> = new Set([
  'decryption-failed',
  'failed-precondition',
  'key-destroyed',
]);

/** A failed KMS call, as a platform error: the problem filter answers it with the right status. */
export class KmsError extends RampartError {
  constructor(
    code: ErrorCode,
    detail: string,
    /** What the KMS answered, for logs; never key material. */
    readonly upstream: { status?: number; code?: string; detail?: string },
    options?: { cause?: unknown },
  ) {
    super(code, detail, {}, options);
    this.name = 'KmsError';
  }
}

const problemBody = z.looseObject({ code: z.string().optional(), detail: z.string().optional() });
const dataKeyResponse = z.object({
  plaintext: z.base64(),
  ciphertext: z.base64(),
  keyVersion: z.number().int().positive(),
});
const subjectDataKeyResponse = dataKeyResponse.extend({ keyName: z.string().min(1) });
const shredResponse = z.looseObject({ name: z.string().min(1) });
const decryptResponse = z.object({ plaintext: z.base64(), keyVersion: z.number().int() });

const signResponse = z.object({ signature: z.base64(), keyVersion: z.number().int().positive() });
const keyResponse = z.looseObject({
  name: z.string().min(1),
  primaryVersion: z.number().int().positive(),
  versions: z.array(
    z.looseObject({
      version: z.number().int().positive(),
      publicKey: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

const b64 = (bytes: Buffer) => bytes.toString('base64');

/** A 2xx answer that does not match the API: the KMS (or something in between) is broken. */
function answer<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new KmsError('bad-gateway', 'The key-management service answered in an unknown format.', {
      status: 200,
    });
  return result.data;
}

/**
 * Decodes key material into memory of its own: small `Buffer.from(string)` results live in
 * Node's shared pool, where zeroing them later would be unreliable to reason about.
 */
function secretFromBase64(value: string): Buffer {
  const decoded = Buffer.from(value, 'base64');
  const secret = Buffer.allocUnsafeSlow(decoded.length);
  decoded.copy(secret);
  decoded.fill(0);
  return secret;
}

/**
 * A small client of the key-management HTTP API for other services: keep-alive connections
 * (undici), a workload assertion on every call, problem+json answers turned into `KmsError`s.
 */
export class KmsClient {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly audience: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: KmsClientOptions) {
    const url = new URL(options.baseUrl);
    this.pool = new Pool(url.origin, { connections: options.connections ?? 8 });
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.audience = options.audience ?? 'key-management';
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  async createKey(name: string): Promise<void> {
    await this.call('/kms/v1/keys', { name, purpose: 'ENCRYPT_DECRYPT' });
  }

  /**
   * Creates a signing key (SIGN_VERIFY) in the calling service's own key ring. Answers false when
   * the name is taken (the KMS answers 409), so a service can ensure its key at every start.
   */
  async createSigningKey(name: string, algorithm: 'EdDSA' | 'ES256'): Promise<boolean> {
    try {
      await this.call('/kms/v1/keys', { name, purpose: 'SIGN_VERIFY', algorithm });
      return true;
    } catch (error) {
      if (error instanceof KmsError && error.upstream.status === 409) return false;
      throw error;
    }
  }

  /** Signs `message` with the key's primary version; the private key stays in the KMS. */
  async sign(keyName: string, message: Buffer): Promise<{ signature: Buffer; keyVersion: number }> {
    const body = answer(
      signResponse,
      await this.call(`/kms/v1/keys/${encodeURIComponent(keyName)}:sign`, {
        message: b64(message),
      }),
    );
    return { signature: Buffer.from(body.signature, 'base64'), keyVersion: body.keyVersion };
  }

  /** A key's primary version and each version's public key (a JWK; signing and WRAP keys). */
  async publicKeys(keyName: string): Promise<{
    primaryVersion: number;
    versions: { version: number; publicKey?: Record<string, unknown> }[];
  }> {
    const body = answer(
      keyResponse,
      await this.call(`/kms/v1/keys/${encodeURIComponent(keyName)}`, undefined, 'GET'),
    );
    return { primaryVersion: body.primaryVersion, versions: body.versions };
  }

  async generateDataKey(keyName: string, associatedData: Buffer): Promise<DataKey> {
    const body = answer(
      dataKeyResponse,
      await this.call(`/kms/v1/keys/${encodeURIComponent(keyName)}:generateDataKey`, {
        associatedData: b64(associatedData),
      }),
    );
    return {
      keyName,
      keyVersion: body.keyVersion,
      plaintext: secretFromBase64(body.plaintext),
      ciphertext: Buffer.from(body.ciphertext, 'base64'),
    };
  }

  /** A data key under the subject's own key, which the KMS creates on first use. */
  async generateSubjectDataKey(subject: DataSubject, associatedData: Buffer): Promise<DataKey> {
    const body = answer(
      subjectDataKeyResponse,
      await this.call('/kms/v1/subjects:generateDataKey', {
        tenant: subject.tenant,
        subject: subject.subject,
        associatedData: b64(associatedData),
      }),
    );
    return {
      keyName: body.keyName,
      keyVersion: body.keyVersion,
      plaintext: secretFromBase64(body.plaintext),
      ciphertext: Buffer.from(body.ciphertext, 'base64'),
    };
  }

  async decrypt(
    keyName: string,
    ciphertext: Buffer,
    associatedData: Buffer,
  ): Promise<{ plaintext: Buffer; keyVersion: number }> {
    const body = answer(
      decryptResponse,
      await this.call(`/kms/v1/keys/${encodeURIComponent(keyName)}:decrypt`, {
        ciphertext: b64(ciphertext),
        associatedData: b64(associatedData),
      }),
    );
    return { plaintext: secretFromBase64(body.plaintext), keyVersion: body.keyVersion };
  }

  /**
   * Destroys the subject's key (at once, or after the key's waiting period): every record wrapped
   * by it becomes unreadable. Answers the key's name, which is a pseudonym of the subject.
   */
  async shredSubject(
    subject: DataSubject,
    options: { immediately?: boolean } = {},
  ): Promise<{ keyName: string }> {
    const body = answer(
      shredResponse,
      await this.call('/kms/v1/subjects:shred', {
        tenant: subject.tenant,
        subject: subject.subject,
        ...(options.immediately === undefined ? {} : { immediately: options.immediately }),
      }),
    );
    return { keyName: body.name };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async call(
    path: string,
    body: unknown,
    method: 'GET' | 'POST' = 'POST',
  ): Promise<unknown> {
    const assertion = await this.options.signer.assertionFor(this.audience);
    let response: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      response = await this.pool.request({
        method,
        path: this.prefix + path,
        headers:
          method === 'GET'
            ? { [WORKLOAD_ASSERTION_HEADER]: assertion }
            : { 'content-type': 'application/json', [WORKLOAD_ASSERTION_HEADER]: assertion },
        ...(method === 'GET' ? {} : { body: JSON.stringify(body) }),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      text = await response.body.text();
    } catch (error) {
      const timedOut =
        error instanceof undiciErrors.HeadersTimeoutError ||
        error instanceof undiciErrors.BodyTimeoutError;
      throw new KmsError(
        timedOut ? 'gateway-timeout' : 'service-unavailable',
        'The key-management service did not answer.',
        {},
        { cause: error },
      );
    }
    if (response.statusCode >= 200 && response.statusCode < 300) {
      try {
        return text === '' ? {} : (JSON.parse(text) as unknown);
      } catch {
        return undefined; // not JSON: refused by the answer's schema
      }
    }
    throw this.failure(response.statusCode, String(response.headers['content-type'] ?? ''), text);
  }

  private failure(status: number, contentType: string, text: string): KmsError {
    let problem: z.infer<typeof problemBody> = {};
    if (
      contentType.startsWith(PROBLEM_CONTENT_TYPE) ||
      contentType.startsWith('application/json')
    ) {
      try {
        problem = problemBody.parse(JSON.parse(text));
      } catch {
        // Not a problem document: only the status is known.
      }
    }
    const upstream = { status, code: problem.code, detail: problem.detail };
    const code = problem.code;
    if (code !== undefined && KEPT_CODES.has(code) && code in ERROR_CODES) {
      return new KmsError(
        code as ErrorCode,
        problem.detail ?? ERROR_CODES[code as ErrorCode].title,
        upstream,
      );
    }
    return new KmsError(
      status === 503 ? 'service-unavailable' : 'bad-gateway',
      `The key-management service answered ${status}${code ? ` (${code})` : ''}.`,
      upstream,
    );
  }
}
