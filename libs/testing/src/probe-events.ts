import { z } from 'zod';
import { defineEvent, defineTopic } from '@rampart/contracts';

/** Events that exist only in tests and benchmarks, to drive the event bus without a real domain. */
export function probeEvents(suffix: string) {
  const topic = defineTopic({
    service: 'test',
    aggregate: `probe-${suffix}`,
    version: 1,
    description: 'Test-only probe events.',
  });
  return {
    topic,
    recorded: defineEvent({
      type: 'rampart.test.probe.recorded',
      topic,
      data: z.strictObject({
        sequence: z.number().int().nonnegative(),
        failUntilAttempt: z.number().int().optional(),
        sentAt: z.number().optional(),
      }),
      description: 'A probe event carrying a sequence number.',
    }),
  };
}
