import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../chain/audit-record.js';

/** A minimal record as the mapping would produce it, for tests of the chain alone. */
export function testRecord(
  overrides: { eventId?: string; subject?: string; classUid?: number; time?: number } = {},
): AuditRecord {
  const now = Date.now();
  return {
    class_uid: overrides.classUid ?? 6003,
    time: overrides.time ?? now - 1_000,
    target: { uid: overrides.subject ?? 'subject-1', type: 'test' },
    status: 'Success',
    metadata: {
      uid: overrides.eventId ?? randomUUID(),
      event_code: 'rampart.audit.test.happened',
      product: { name: 'audit', vendor_name: 'Rampart' },
      logged_time: now,
    },
    unmapped: { data: { n: 1 } },
  };
}
