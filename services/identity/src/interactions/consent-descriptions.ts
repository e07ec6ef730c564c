/** What each OpenID scope lets an application see, in words a person understands. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  openid: 'Know who you are when you sign in (your account identifier).',
  profile: 'See your name, display name and username.',
  email: 'See your e-mail address and whether it is confirmed.',
  offline_access: 'Stay connected when you are not using it (until you revoke it).',
};

/** What each claim requested by name is. */
export const CLAIM_DESCRIPTIONS: Readonly<Record<string, string>> = {
  sub: 'your account identifier',
  name: 'your display name',
  given_name: 'your given name',
  family_name: 'your family name',
  preferred_username: 'your username',
  updated_at: 'when your profile last changed',
  email: 'your e-mail address',
  email_verified: 'whether your e-mail address is confirmed',
};
