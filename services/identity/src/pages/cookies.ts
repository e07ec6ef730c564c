/** Reads one cookie from a Cookie header; undefined when absent or present more than once. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const values = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${name}=`))
    .map((part) => part.slice(name.length + 1));
  // Two cookies of one name mean someone planted one: trust neither.
  return values.length === 1 ? values[0] : undefined;
}

/**
 * A `__Host-` cookie: Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain, so only this origin
 * sets or reads it (browsers accept Secure cookies on http://localhost for development).
 */
export function hostCookie(
  name: `__Host-${string}`,
  value: string,
  maxAgeSeconds?: number,
): string {
  return [
    `${name}=${value}`,
    'Path=/',
    'Secure',
    'HttpOnly',
    'SameSite=Lax',
    ...(maxAgeSeconds === undefined ? [] : [`Max-Age=${maxAgeSeconds}`]),
  ].join('; ');
}
