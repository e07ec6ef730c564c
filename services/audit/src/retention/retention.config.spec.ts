import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { retentionConfigShape, retentionPolicy } from './retention.config.js';

const schema = z.object(retentionConfigShape);

describe('retention config', () => {
  it('defaults to six years for every class, and reads per-class exceptions', () => {
    const config = schema.parse({ AUDIT_RETENTION_CLASS_DAYS: ' 3002=400, 6003=90 ' });
    expect(config.AUDIT_RETENTION_DAYS).toBe(2190);
    expect([...config.AUDIT_RETENTION_CLASS_DAYS]).toEqual([
      [3002, 400],
      [6003, 90],
    ]);
    const now = new Date('2026-11-28T00:00:00.000Z');
    const policy = retentionPolicy(config, now);
    expect(policy.cutoffs.get(6003)?.toISOString()).toBe('2026-08-30T00:00:00.000Z');
    expect(policy.defaultCutoff.getTime()).toBe(now.getTime() - 2190 * 86_400_000);
  });

  it('refuses less than 30 days, malformed pairs, a class given twice and a relative archive path', () => {
    for (const [variable, value, message] of [
      ['AUDIT_RETENTION_DAYS', '29', 'at least 30 days'],
      ['AUDIT_RETENTION_CLASS_DAYS', '3002=10', '"3002=10" is not <OCSF class uid>=<days>'],
      ['AUDIT_RETENTION_CLASS_DAYS', '3002:400', '"3002:400" is not'],
      ['AUDIT_RETENTION_CLASS_DAYS', '3002=400,3002=500', 'class 3002 is given twice'],
      ['AUDIT_ARCHIVE_DIR', 'archives', 'an absolute path'],
    ] as const) {
      const result = schema.safeParse({ [variable]: value });
      expect({ variable, value, ok: result.success }).toEqual({ variable, value, ok: false });
      expect(result.error?.issues[0]).toMatchObject({
        path: [variable],
        message: expect.stringContaining(message),
      });
    }
  });
});
