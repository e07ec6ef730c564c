import { z } from 'zod';
import { defineEvent, defineTopic } from '../envelope.js';
import type { ServiceName } from '../../services/services.js';

/**
 * Service lifecycle: each service announces that an instance started, through its own outbox, so
 * the audit trail shows every start (OCSF 6002 Application Lifecycle) and the event path is
 * exercised from the first boot.
 */
export const serviceStartedData = z.strictObject({
  service: z.string(),
  instanceId: z.string().min(1).max(128),
  version: z.string(),
  mode: z.enum(['all-in-one', 'distributed']),
  transport: z.enum(['kafka', 'in-process']),
});

function lifecycleEvents<const S extends Exclude<ServiceName, 'gateway'>>(service: S) {
  const topic = defineTopic({
    service,
    aggregate: 'lifecycle',
    version: 1,
    description: `Lifecycle of ${service} instances.`,
  });
  return {
    topic,
    started: defineEvent({
      type: `rampart.${service}.lifecycle.started`,
      topic,
      data: serviceStartedData,
      description: `An instance of ${service} finished starting and is ready.`,
    }),
  };
}

export const IdentityLifecycle = lifecycleEvents('identity');
export const AuthorizationLifecycle = lifecycleEvents('authorization');
export const KeyManagementLifecycle = lifecycleEvents('key-management');
export const ConsentLifecycle = lifecycleEvents('consent');
export const AuditLifecycle = lifecycleEvents('audit');
