import { RampartError, ValidationFailedError } from '@rampart/platform';
import type { PasswordVerdict } from '../passwords/password-policy.js';

/**
 * One answer whether the username or the e-mail address is taken: saying which would let anyone
 * test whether a given address has an account here (see docs/architecture/identity.md, Accounts).
 */
export function accountExists(): RampartError {
  return new RampartError(
    'conflict',
    'An account with this username or e-mail address already exists.',
  );
}

/** A new password the policy refuses; `reason` is a stable code the pages map to a message. */
export function passwordRefused(
  verdict: Extract<PasswordVerdict, { ok: false }>,
  path = 'password',
): RampartError {
  return new RampartError('validation-failed', 'The password does not meet the password policy.', {
    errors: [{ path, message: verdict.reason }],
    reason: verdict.reason,
    minLength: verdict.minLength,
    maxLength: verdict.maxLength,
  });
}

/** Unknown, used and expired tokens get the same answer: nothing to learn by probing. */
export function verificationLinkInvalid(): RampartError {
  return new RampartError('bad-request', 'The verification link is invalid or has expired.');
}

export function wrongCurrentPassword(): ValidationFailedError {
  return new ValidationFailedError([{ path: 'currentPassword', message: 'is not correct' }]);
}

export function accountNotFound(): RampartError {
  return new RampartError('not-found', 'No such account.');
}

/** The profile changed since the form was loaded (another tab, or provisioning through SCIM). */
export function profileChangedMeanwhile(): RampartError {
  return new RampartError(
    'conflict',
    'Your profile was changed elsewhere since you opened this page. Review it and save again.',
  );
}
