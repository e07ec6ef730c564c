import type { EventDefinition, TopicDefinition } from './envelope.js';
import {
  AuditLifecycle,
  AuthorizationLifecycle,
  ConsentLifecycle,
  IdentityLifecycle,
  KeyManagementLifecycle,
} from './lifecycle/lifecycle.events.js';
import { AuditCheckpointEvents } from './audit/checkpoint.events.js';
import { AuditIngestEvents } from './audit/ingest.events.js';
import { KeyEvents } from './key-management/key.events.js';
import { KeyAccessEvents, KeyPolicyEvents } from './key-management/key-access.events.js';
import { SharedObjectEvents } from './key-management/shared-object.events.js';
import { TokenSigningKeyEvents } from './key-management/token-signing-key.events.js';
import { AccountEvents, LoginEvents } from './identity/account.events.js';
import { OidcClientEvents, OidcGrantEvents, OidcRequestEvents } from './identity/oidc.events.js';
import { ScimEvents } from './identity/scim.events.js';
import { SessionEvents } from './identity/session.events.js';
import { AuditQueryEvents, AuditStreamEvents } from './audit/audit.events.js';
import { AuditRetentionEvents } from './audit/retention.events.js';

/**
 * Every event Rampart produces. Adding an event means adding it here: `docs/events/` is generated
 * from this list (and a test fails while the generated docs are stale).
 */
export const EVENT_CATALOGUE = [
  IdentityLifecycle.started,
  AuthorizationLifecycle.started,
  KeyManagementLifecycle.started,
  ConsentLifecycle.started,
  AuditLifecycle.started,
  ...Object.values(KeyEvents),
  KeyAccessEvents.accessed,
  KeyPolicyEvents.updated,
  ...Object.values(SharedObjectEvents),
  ...Object.values(TokenSigningKeyEvents),
  ...Object.values(AccountEvents),
  ...Object.values(LoginEvents),
  ...Object.values(OidcClientEvents),
  ...Object.values(OidcGrantEvents),
  ...Object.values(OidcRequestEvents),
  ...Object.values(ScimEvents),
  ...Object.values(SessionEvents),
  AuditQueryEvents.performed,
  AuditStreamEvents.appended,
  AuditCheckpointEvents.signed,
  AuditIngestEvents.eventDeadLettered,
  ...Object.values(AuditRetentionEvents),
] as const satisfies readonly EventDefinition[];

export type CatalogueEvent = (typeof EVENT_CATALOGUE)[number];
export type CatalogueEventType = CatalogueEvent['type'];

/** Every topic of the catalogue, once. */
export function catalogueTopics(
  events: readonly EventDefinition[] = EVENT_CATALOGUE,
): TopicDefinition[] {
  const topics = new Map<string, TopicDefinition>();
  for (const event of events) topics.set(event.topic.name, event.topic);
  return [...topics.values()];
}
