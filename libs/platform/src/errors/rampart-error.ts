import { ERROR_CODES, type ErrorCode } from '@rampart/contracts';

/**
 * The base of every error a Rampart service raises on purpose. It carries a stable code from the
 * catalogue; `expose` decides whether `detail` may reach the client (never for 5xx).
 */
export class RampartError extends Error {
  readonly status: number;
  readonly expose: boolean;
  /** Response headers the error calls for, such as a `WWW-Authenticate` challenge. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown; status?: number; headers?: Record<string, string> },
  ) {
    super(detail ?? ERROR_CODES[code].title, options);
    this.name = 'RampartError';
    this.status = options?.status ?? ERROR_CODES[code].status;
    this.expose = this.status < 500;
    this.headers = options?.headers ?? {};
  }
}

export class ValidationFailedError extends RampartError {
  constructor(readonly issues: { path: string; message: string }[]) {
    super('validation-failed', 'The request does not match the expected format.', {
      errors: issues,
    });
  }
}
