/** One place where the person is signed in, as the sessions page lists it. */
export interface AccountSessionSummary {
  /** The session's uid (public: it names the session, it does not grant it). */
  uid: string;
  signedInAt: Date;
  expiresAt: Date | undefined;
  /** Applications that signed in with this session, by client id. */
  applications: string[];
}

/**
 * What the sessions page needs: list an account's sessions and end them. The account centre
 * uses whatever is bound to ACCOUNT_SESSIONS (today ProviderAccountSessions, reading the
 * provider's own Session records; the identity SessionsService can take its place).
 */
export interface AccountSessions {
  list(accountId: string): Promise<AccountSessionSummary[]>;
  /** Ends one session of this account (and the grants made in it); false if there is none. */
  revoke(accountId: string, uid: string): Promise<boolean>;
}

export const ACCOUNT_SESSIONS = Symbol('rampart.identity.account-sessions');
