import type { DataSource } from 'typeorm';

/** What the provider may say about a person, by scope (OpenID Connect Core §5.4). */
export const CLAIMS_BY_SCOPE = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;

interface ClaimsRow {
  id: string;
  username: string;
  email: string;
  email_verified_at: Date | null;
  given_name: string | null;
  family_name: string | null;
  display_name: string | null;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The account behind a `sub`, if it may still be served: an account that is disabled or closing
 * is "not found", which makes the provider refuse its tokens and sessions at once.
 */
export async function findActiveAccountClaims(
  dataSource: DataSource,
  accountId: string,
): Promise<Record<string, unknown> | undefined> {
  if (!UUID.test(accountId)) return undefined;
  const [row] = await dataSource.query<ClaimsRow[]>(
    `SELECT id, username, email, email_verified_at, given_name, family_name, display_name, updated_at
       FROM accounts WHERE id = $1 AND status = 'ACTIVE'`,
    [accountId],
  );
  if (!row) return undefined;
  const name =
    row.display_name ?? ([row.given_name, row.family_name].filter(Boolean).join(' ') || undefined);
  return {
    sub: row.id,
    preferred_username: row.username,
    email: row.email,
    email_verified: row.email_verified_at !== null,
    ...(name ? { name } : {}),
    ...(row.given_name ? { given_name: row.given_name } : {}),
    ...(row.family_name ? { family_name: row.family_name } : {}),
    updated_at: Math.floor(row.updated_at.getTime() / 1000),
  };
}
