import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { mediaType, RampartError } from '@rampart/platform';

/**
 * What a request body may be, per public path prefix: how large, and which media types. The
 * services check again (each parses with its own limit), but the edge refuses before a byte is
 * proxied, and it is the one place that sees every route at once.
 */
export interface BodyRule {
  readonly prefix: string;
  readonly maxBytes: number;
  /** Media types (lower case, without parameters); anything else is 415. */
  readonly contentTypes: readonly string[];
}

const KIB = 1024;
const MIB = 1024 * KIB;
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/**
 * Sizes follow what each API really receives: pages post short forms; the OIDC endpoints forms
 * and dynamic client registration's JSON. oidc-provider refuses more than 56 KiB itself, in the
 * protocol's own error format (`invalid_request`), which OAuth clients understand: the edge's
 * limit sits above it, so only bodies far too large for any OAuth request get the edge's 413.
 * The JSON APIs take batches, up to the services' own 1 MiB limit. `/.well-known` takes no body.
 */
export const BODY_RULES: readonly BodyRule[] = [
  { prefix: '/.well-known', maxBytes: 0, contentTypes: [] },
  { prefix: '/oidc', maxBytes: 128 * KIB, contentTypes: [FORM, JSON_TYPE] },
  { prefix: '/interaction', maxBytes: 16 * KIB, contentTypes: [FORM] },
  { prefix: '/account', maxBytes: 16 * KIB, contentTypes: [FORM, JSON_TYPE] },
  { prefix: '/scim/v2', maxBytes: 1 * MIB, contentTypes: ['application/scim+json', JSON_TYPE] },
  { prefix: '/authz', maxBytes: 1 * MIB, contentTypes: [JSON_TYPE] },
  { prefix: '/kms', maxBytes: 1 * MIB, contentTypes: [JSON_TYPE] },
  { prefix: '/privacy', maxBytes: 1 * MIB, contentTypes: [JSON_TYPE] },
  { prefix: '/audit', maxBytes: 64 * KIB, contentTypes: [JSON_TYPE] },
];

export function bodyRuleFor(prefix: string): BodyRule {
  const rule = BODY_RULES.find((candidate) => candidate.prefix === prefix);
  if (!rule) throw new Error(`No body rule for the routed prefix ${prefix}`);
  return rule;
}

function isJson(type: string): boolean {
  return type === JSON_TYPE || type.endsWith('+json');
}

/** A request carries a body when it declares a length above zero or is sent in chunks. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}

function tooLarge(rule: BodyRule): RampartError {
  return new RampartError(
    'payload-too-large',
    rule.maxBytes === 0
      ? `Requests under ${rule.prefix} take no body.`
      : `The body is larger than ${rule.maxBytes} bytes, the limit under ${rule.prefix}.`,
  );
}

/**
 * Reads a body to its end, refusing (413) the moment it passes the limit. The rest is not read:
 * the refusal closes the connection instead (proxy.ts), so a sender cannot keep the gateway
 * draining.
 */
function readAtMost(body: Readable, rule: BodyRule): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= rule.maxBytes) {
        chunks.push(chunk);
        return;
      }
      body.off('data', onData).off('end', onEnd).off('error', onError).pause();
      reject(tooLarge(rule));
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    // The caller hung up or broke the framing mid-body: its request, not a fault of ours.
    const onError = (cause: unknown) =>
      reject(
        new RampartError('bad-request', 'The request body did not arrive whole.', {}, { cause }),
      );
    body.on('data', onData).once('end', onEnd).once('error', onError);
  });
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * How deeply a JSON text nests objects and arrays, found by one pass over the bytes without
 * parsing (so a hostile document costs no more than its length). Brackets inside strings do not
 * count. The text need not be valid JSON: the service that parses it answers for that.
 */
export function jsonNestingDepth(text: Buffer, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const byte = text[index];
    if (inString) {
      if (byte === BACKSLASH) index += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return deepest;
}

export interface BodyLimits {
  maxJsonDepth: number;
}

/**
 * Checks a proxied request's body against its prefix's rule before it goes upstream: media type
 * (415), size by declared length and by counting (413), JSON nesting depth (400). The body is read
 * into memory (at most the rule's limit) and handed on unchanged.
 */
export async function enforceBodyRule(
  request: FastifyRequest,
  rule: BodyRule,
  limits: BodyLimits,
): Promise<void> {
  // Fastify reads no body for GET, HEAD and the like, and the proxy sends none on: nothing to check.
  if (!hasBody(request) || request.body === undefined) return;
  const type = mediaType(request.headers['content-type']);
  if (rule.maxBytes === 0) throw tooLarge(rule);
  if (type === undefined || !rule.contentTypes.includes(type)) {
    throw new RampartError(
      'unsupported-media-type',
      `Requests under ${rule.prefix} take ${rule.contentTypes.join(' or ')}.`,
    );
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > rule.maxBytes) throw tooLarge(rule);
  // Only the proxy's pass-through parser leaves a stream; a body Fastify parsed itself (its own
  // text/plain parser) is of a type no rule passes on raw: refuse rather than forward it unchecked.
  if (!(request.body instanceof Readable)) {
    throw new RampartError(
      'unsupported-media-type',
      `Requests under ${rule.prefix} cannot take ${type}.`,
    );
  }
  const body = await readAtMost(request.body, rule);
  if (isJson(type) && jsonNestingDepth(body, limits.maxJsonDepth) > limits.maxJsonDepth) {
    throw new RampartError(
      'bad-request',
      `The JSON body nests deeper than ${limits.maxJsonDepth} levels.`,
    );
  }
  request.body = Readable.from([body]);
}
