import { RampartError, type Principal } from '@rampart/platform';

/** The access-token scope every sharing route requires. */
export const SHARING_SCOPE = 'kms.share';

/**
 * The user behind a request. Sharing routes admit access tokens only, so this is a safeguard for
 * a route that would one day also admit workloads: objects belong to users, never to services.
 */
export function userOf(principal: Principal): string {
  if (principal.kind !== 'user') {
    throw new RampartError('forbidden', 'End-to-end encrypted objects belong to users.');
  }
  return principal.id;
}
