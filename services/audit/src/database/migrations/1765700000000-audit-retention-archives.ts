import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The youngest cutoff the database lets a prune use, whatever the service is configured with. */
export const PRUNE_FLOOR_DAYS = 30;

/**
 * Retention (ADR 0025): the archives that hold records before they leave the hot store, the
 * tombstone columns of a pruned record, and the one path that prunes.
 *
 * - `audit_archives`: one row per verified archive bundle, a contiguous range of sequences ending
 *   at a signed checkpoint. Append-only like the log.
 * - A pruned row keeps its chain link and its Merkle leaf hash (`leaf_hash`) and loses `record`,
 *   `subject` and the actor columns (the personal part); `pruned_at` and `archive_id` say when
 *   and where to. Only records up to `up_to` are pruned: the caller passes the slowest
 *   forwarder's position, so the stream and syslog never meet a tombstone.
 * - The append-only trigger now lets one kind of UPDATE through: a prune made by
 *   `audit_prune_records` (the transaction-local flag it sets), that changes nothing but the body
 *   and the tombstone columns, keeps the row's own leaf hash (recomputed here and compared with
 *   the stored tree), names an archive covering the row, for a record older than the floor.
 *   DELETE and TRUNCATE stay refused. Column-level UPDATE is granted on those columns only.
 */
export class AuditRetentionArchives1765700000000 implements MigrationInterface {
  name = 'AuditRetentionArchives1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const [{ schema }] = (await queryRunner.query(`SELECT current_schema() AS schema`)) as [
      { schema: string },
    ];
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unexpected schema name ${schema}`);

    await queryRunner.query(`
      CREATE TABLE audit_archives (
        id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,64}$'),
        first_sequence  bigint NOT NULL CHECK (first_sequence >= 1),
        last_sequence   bigint NOT NULL,
        checkpoint_size bigint NOT NULL,
        sha256          bytea NOT NULL CHECK (octet_length(sha256) = 32),
        created_at      timestamptz NOT NULL,
        CHECK (last_sequence >= first_sequence AND checkpoint_size = last_sequence)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION audit_archives_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_archives is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_archives_no_update_or_delete
        BEFORE UPDATE OR DELETE ON audit_archives
        FOR EACH ROW EXECUTE FUNCTION audit_archives_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_archives_no_truncate
        BEFORE TRUNCATE ON audit_archives
        FOR EACH STATEMENT EXECUTE FUNCTION audit_archives_append_only()`);
    await queryRunner.query(
      `REVOKE UPDATE, DELETE, TRUNCATE ON audit_archives FROM PUBLIC, CURRENT_USER`,
    );

    await queryRunner.query(`
      ALTER TABLE audit_records
        ALTER COLUMN record DROP NOT NULL,
        ALTER COLUMN subject DROP NOT NULL,
        ADD COLUMN leaf_hash bytea,
        ADD COLUMN pruned_at timestamptz,
        -- No foreign key: its check locks the archive row FOR KEY SHARE, which needs the UPDATE
        -- privilege the owner gave up on audit_archives. The trigger checks more than a key would.
        ADD COLUMN archive_id text,
        ADD CONSTRAINT audit_records_whole_or_tombstone CHECK (
          (record IS NOT NULL AND subject IS NOT NULL AND leaf_hash IS NULL
            AND pruned_at IS NULL AND archive_id IS NULL)
          OR (record IS NULL AND subject IS NULL AND octet_length(leaf_hash) = 32
            AND pruned_at IS NOT NULL AND archive_id IS NOT NULL))`);

    // The leaf hash of RFC 9162 over the leaf data of ADR 0023, from the row as it is.
    const leafHashOf = (row: string) => `sha256('\\x00'::bytea || convert_to(
        '{"previousHash":"' || encode(${row}.previous_hash, 'hex') || '","record":' || ${row}.record
          || ',"sequence":' || ${row}.sequence || '}', 'UTF8'))`;

    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE'
           AND current_setting('rampart.audit_pruning', true) = 'on'
           AND OLD.record IS NOT NULL AND NEW.record IS NULL AND NEW.subject IS NULL
           AND NEW.sequence = OLD.sequence AND NEW.event_id = OLD.event_id
           AND NEW.event_type = OLD.event_type AND NEW.service = OLD.service
           AND NEW.occurred_at = OLD.occurred_at AND NEW.recorded_at = OLD.recorded_at
           AND NEW.previous_hash = OLD.previous_hash AND NEW.hash = OLD.hash
           AND NEW.pruned_at IS NOT NULL
           AND OLD.occurred_at < now() - interval '${PRUNE_FLOOR_DAYS} days'
           AND NEW.leaf_hash = ${leafHashOf('OLD')}
           AND NEW.leaf_hash = (SELECT s.hash FROM audit_merkle_subtrees s
                                 WHERE s.level = 0 AND s.index = OLD.sequence - 1)
           AND EXISTS (SELECT 1 FROM audit_archives a
                        WHERE a.id = NEW.archive_id
                          AND OLD.sequence BETWEEN a.first_sequence AND a.last_sequence)
        THEN
          -- The query filters' copies of the actor (migration 1765900000000) go with the body;
          -- set here, so the prune needs no privilege on them. The class and outcome stay.
          NEW.actor_user := NULL;
          NEW.actor_app_uid := NULL;
          NEW.actor_app_name := NULL;
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_records is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(
      `GRANT UPDATE (record, subject, leaf_hash, pruned_at, archive_id) ON audit_records TO CURRENT_USER`,
    );

    // SECURITY DEFINER with a pinned search path: ready for a running role that is not the
    // owner, which would then get EXECUTE on this and no UPDATE at all.
    await queryRunner.query(`
      CREATE FUNCTION audit_prune_records(
        classes integer[], cutoffs timestamptz[], default_cutoff timestamptz, up_to bigint
      ) RETURNS TABLE (pruned_class integer, pruned_count bigint)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = "${schema}", pg_temp AS $$
      BEGIN
        IF default_cutoff IS NULL OR cardinality(classes) IS DISTINCT FROM cardinality(cutoffs)
           OR default_cutoff > now() - interval '${PRUNE_FLOOR_DAYS} days'
           OR EXISTS (SELECT 1 FROM unnest(cutoffs) AS c(cutoff)
                       WHERE c.cutoff IS NULL
                          OR c.cutoff > now() - interval '${PRUNE_FLOOR_DAYS} days') THEN
          RAISE EXCEPTION 'audit retention: every cutoff must be at least ${PRUNE_FLOOR_DAYS} days old'
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM set_config('rampart.audit_pruning', 'on', true);
        RETURN QUERY
          WITH due AS (
            SELECT r.sequence, (r.record::jsonb ->> 'class_uid')::integer AS class_uid,
                   a.id AS archive_id
              FROM audit_records r
              JOIN audit_archives a ON r.sequence BETWEEN a.first_sequence AND a.last_sequence
             WHERE r.record IS NOT NULL AND r.sequence <= up_to
               AND r.occurred_at < coalesce(
                     (SELECT p.cutoff FROM unnest(classes, cutoffs) AS p(class_uid, cutoff)
                       WHERE p.class_uid = (r.record::jsonb ->> 'class_uid')::integer),
                     default_cutoff)
          ), done AS (
            UPDATE audit_records r
               SET record = NULL, subject = NULL, pruned_at = now(), archive_id = due.archive_id,
                   leaf_hash = ${leafHashOf('r')}
              FROM due
             WHERE r.sequence = due.sequence
            RETURNING due.class_uid
          )
          SELECT done.class_uid, count(*) FROM done GROUP BY done.class_uid ORDER BY done.class_uid;
        PERFORM set_config('rampart.audit_pruning', 'off', true);
      END
      $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION audit_prune_records FROM PUBLIC`);
  }

  down(): Promise<void> {
    return Promise.reject(
      new Error('pruned records cannot come back from a migration: restore them from the archive'),
    );
  }
}
