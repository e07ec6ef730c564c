export { identityService } from './identity.service.js';
export { PasswordHasher } from './passwords/password-hasher.js';
export { PasswordPolicy } from './passwords/password-policy.js';
export type { PasswordRejection, PasswordVerdict } from './passwords/password-policy.js';
export { AccountsService } from './accounts/accounts.service.js';
export type {
  Account,
  AccountStatus,
  AuthenticationResult,
  LoginContext,
  Profile,
} from './accounts/accounts.service.js';
// The provider itself: for first-party code in this process (all-in-one's protocol tests seed
// grants through it).
export { OidcProviderHost } from './oidc/oidc-provider-host.js';
export { SessionsService, selfActor } from './sessions/sessions.service.js';
export type { SessionActor, SessionView } from './sessions/sessions.service.js';
