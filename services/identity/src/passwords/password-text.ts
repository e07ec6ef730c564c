/**
 * The form in which a password is checked, hashed and verified. NIST 800-63B 5.1.1.2 asks for
 * NFKC or NFKD so that the same password typed on two keyboards (composed or decomposed accents,
 * full-width digits) is the same secret. Hashing and verifying must agree, hence one function.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length as NIST counts it: each Unicode code point is one character (not UTF-16 units). */
export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length += 1;
  return length;
}
