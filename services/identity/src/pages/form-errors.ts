import { RampartError } from '@rampart/platform';
import type { FieldErrors } from './layout.js';

/** What the pages say for each password policy reason (docs/architecture/identity.md). */
function passwordMessage(reason: string, minLength: unknown, maxLength: unknown): string {
  switch (reason) {
    case 'too-short':
      return `Use at least ${String(minLength)} characters.`;
    case 'too-long':
      return `Use at most ${String(maxLength)} characters.`;
    case 'common':
      return 'This password is too common and easy to guess. Choose another one.';
    case 'matches-identifier':
      return 'The password must not be your username or e-mail address.';
    default:
      return 'Choose another password.';
  }
}

const FIELD_MESSAGES: Record<string, string> = {
  username: 'Use 3 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.',
  email: 'Enter an e-mail address, like name@example.org.',
  currentPassword: 'Your current password is not correct.',
};

/**
 * The field messages for a validation error from AccountsService, or undefined when the error is
 * not a field-level refusal (it then goes to the error page).
 */
export function fieldErrorsOf(error: unknown): FieldErrors | undefined {
  if (!(error instanceof RampartError) || error.code !== 'validation-failed') return undefined;
  const issues = (error.extensions['errors'] ?? []) as { path: string; message: string }[];
  const { reason, minLength, maxLength } = error.extensions;
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    errors[issue.path] =
      typeof reason === 'string' && /password/i.test(issue.path)
        ? passwordMessage(reason, minLength, maxLength)
        : (FIELD_MESSAGES[issue.path] ?? 'Check this field.');
  }
  return errors;
}

/** Field messages for a form that failed its own schema (missing or oversized fields). */
export function schemaErrors(
  issues: readonly { path: readonly PropertyKey[] }[],
  messages: Readonly<Record<string, string>>,
): FieldErrors {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const name = String(issue.path[0] ?? '');
    errors[name] ??= messages[name] ?? 'Check this field.';
  }
  return errors;
}
