import { z } from 'zod';

/**
 * The shortest retention the service accepts, in days. The database's prune function refuses a
 * younger cutoff on its own (migration 1765700000000), so a misconfigured replica cannot go
 * below it either.
 */
export const RETENTION_FLOOR_DAYS = 30;
/** Six years: what HIPAA asks of documentation (45 CFR 164.316(b)(2)). */
export const DEFAULT_RETENTION_DAYS = 2190;

const days = z.coerce
  .number()
  .int()
  .min(RETENTION_FLOOR_DAYS, `at least ${RETENTION_FLOOR_DAYS} days`)
  .max(36_500);

/** `3002=400,6003=90`: OCSF class uid = days, each class once. */
const classDays = z.string().transform((text, context) => {
  const byClass = new Map<number, number>();
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(\d{1,6})=(\d{1,6})$/.exec(item);
    const parsed = match ? days.safeParse(match[2]) : undefined;
    if (!match || !parsed?.success) {
      context.addIssue({
        code: 'custom',
        message: `"${item.slice(0, 32)}" is not <OCSF class uid>=<days>, days from ${RETENTION_FLOOR_DAYS} to 36500`,
      });
      return z.NEVER;
    }
    const classUid = Number(match[1]);
    if (byClass.has(classUid)) {
      context.addIssue({ code: 'custom', message: `class ${classUid} is given twice` });
      return z.NEVER;
    }
    byClass.set(classUid, parsed.data);
  }
  return byClass;
});

/** Environment variables of retention (merged into the audit config; ADR 0025). */
export const retentionConfigShape = {
  /**
   * Where archive bundles are written, an absolute path (a mount with its own backup, ideally
   * write-once). Unset: nothing is archived, so nothing is pruned.
   */
  AUDIT_ARCHIVE_DIR: z.string().regex(/^\//, 'an absolute path').optional(),
  /** How long a record is kept in the hot store, for every class not named below. */
  AUDIT_RETENTION_DAYS: days.default(DEFAULT_RETENTION_DAYS),
  /** Per-class exceptions, e.g. `3002=400,6003=90`. */
  AUDIT_RETENTION_CLASS_DAYS: classDays.default(new Map<number, number>()),
  /**
   * The most records one run archives: a backlog is worked off a piece per run (a range still ends
   * at a signed checkpoint, so checkpoints further apart than this make a larger archive).
   */
  AUDIT_ARCHIVE_MAX_RECORDS: z.coerce.number().int().min(1000).max(100_000_000).default(1_000_000),
  /** How often the retention job runs (one replica at a time). */
  AUDIT_RETENTION_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(604_800).default(3600),
};

/** Who is due when: the cutoff time per class, and for every other class. */
export interface RetentionPolicy {
  cutoffs: Map<number, Date>;
  defaultCutoff: Date;
}

export function retentionPolicy(
  config: { AUDIT_RETENTION_DAYS: number; AUDIT_RETENTION_CLASS_DAYS: Map<number, number> },
  now: Date,
): RetentionPolicy {
  const before = (retainDays: number) => new Date(now.getTime() - retainDays * 86_400_000);
  return {
    cutoffs: new Map(
      [...config.AUDIT_RETENTION_CLASS_DAYS].map(([classUid, retainDays]) => [
        classUid,
        before(retainDays),
      ]),
    ),
    defaultCutoff: before(config.AUDIT_RETENTION_DAYS),
  };
}
