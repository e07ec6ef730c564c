import { TokenSigningKeyEvents } from '@rampart/contracts';
import { defineConsumer, on } from '@rampart/platform';

/**
 * The PostgreSQL notification channel on which identity replicas hear that key-management changed
 * the token-signing keys (see `SigningKeyChanges`).
 */
export const SIGNING_KEYS_CHANGED_CHANNEL = 'rampart_identity_signing_keys_changed';

/**
 * Key-management's token-signing-key events, turned into a notification to every identity
 * replica. The event itself goes to one replica of the consumer group; `pg_notify` in the inbox
 * transaction reaches all of them, and only once the event is settled. The payload is empty on
 * purpose: PostgreSQL folds identical notifications of one transaction into one, so a rotation
 * (deactivated, activated, created) makes one refresh, and the keys themselves are always fetched
 * from key-management, never taken from an event.
 */
export const signingKeysConsumer = defineConsumer({
  name: 'identity.token-signing-keys',
  handlers: Object.values(TokenSigningKeyEvents).map((definition) =>
    on(definition, async (_event, transaction) => {
      await transaction.query(`SELECT pg_notify($1, '')`, [SIGNING_KEYS_CHANGED_CHANNEL]);
    }),
  ),
});
