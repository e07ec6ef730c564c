import { decodeProtectedHeader, type CompactJWEHeaderParameters } from 'jose';

/**
 * What the service can check of a wrapped data key without being able to open it: the exact
 * algorithms, that it names the recipient's current WRAP key, and that it carries a 256-bit key
 * and nothing else. The last check also keeps content out of the JWEs, so the only place content
 * can sit is the ciphertext column.
 */
const ALGORITHM = 'ECDH-ES+A256KW';
const ENCRYPTION = 'A256GCM';
/** base64url lengths: AES-KW of 32 bytes (40), GCM iv (12), 32-byte payload, GCM tag (16). */
const SEGMENT_LENGTHS = [undefined, 54, 16, 43, 22] as const;
const HEADER_MEMBERS = new Set(['alg', 'enc', 'kid', 'epk', 'apu', 'apv']);
const MAX_PARTY_INFO_LENGTH = 86;

/** Why the JWE is refused, or undefined when it is acceptable for a key with `fingerprint`. */
export function wrappedKeyProblem(jwe: string, fingerprint: string): string | undefined {
  const segments = jwe.split('.');
  if (
    segments.some(
      (segment, index) =>
        SEGMENT_LENGTHS[index] !== undefined && segment.length !== SEGMENT_LENGTHS[index],
    )
  ) {
    return 'must wrap exactly one 256-bit key with A256GCM';
  }
  let header: CompactJWEHeaderParameters;
  try {
    header = decodeProtectedHeader(jwe) as CompactJWEHeaderParameters;
  } catch {
    return 'the protected header is not valid JSON';
  }
  if (header.alg !== ALGORITHM || header.enc !== ENCRYPTION) {
    return `must use alg ${ALGORITHM} and enc ${ENCRYPTION}`;
  }
  const unexpected = Object.keys(header).filter((member) => !HEADER_MEMBERS.has(member));
  if (unexpected.length > 0) return `unexpected header members: ${unexpected.join(', ')}`;
  // Party info is a short label at most (base64url of up to 64 bytes): not room for content.
  for (const member of ['apu', 'apv'] as const) {
    const value: unknown = header[member];
    if (value !== undefined && (typeof value !== 'string' || value.length > MAX_PARTY_INFO_LENGTH))
      return `${member} must be at most ${MAX_PARTY_INFO_LENGTH} base64url characters`;
  }
  const epk = header.epk as Record<string, unknown> | undefined;
  if (epk?.['kty'] !== 'EC' || epk['crv'] !== 'P-256' || 'd' in epk) {
    return 'epk must be a public EC P-256 key';
  }
  if (header.kid !== fingerprint) {
    return "is not wrapped for the recipient's current WRAP key (kid differs from its fingerprint)";
  }
  return undefined;
}
