import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the filters of `GET /audit/v1/events` (docs/architecture/audit.md, "Query API").
 * Subject and service are columns; the actor, the OCSF class and the outcome live only in the
 * hashed record, so they are indexed as expressions over it (the query uses the same
 * expressions, see `audit-query.repository.ts`). Every index ends in `sequence`, the order of the
 * answer, so a filtered page is read in order without a sort.
 */
export class IndexAuditQueryFilters1765400000000 implements MigrationInterface {
  name = 'IndexAuditQueryFilters1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const indexes: [string, string][] = [
      ['audit_records_subject_sequence', `subject, sequence`],
      ['audit_records_service_sequence', `service, sequence`],
      ['audit_records_class_sequence', `((record::jsonb ->> 'class_uid')), sequence`],
      ['audit_records_outcome_sequence', `((record::jsonb ->> 'status_id')), sequence`],
      ['audit_records_actor_user_sequence', `((record::jsonb #>> '{actor,user,uid}')), sequence`],
      ['audit_records_actor_app_uid_sequence', `((record::jsonb #>> '{actor,app_uid}')), sequence`],
      [
        'audit_records_actor_app_name_sequence',
        `((record::jsonb #>> '{actor,app_name}')), sequence`,
      ],
    ];
    for (const [name, columns] of indexes) {
      await queryRunner.query(`CREATE INDEX ${name} ON audit_records (${columns})`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of [
      'audit_records_subject_sequence',
      'audit_records_service_sequence',
      'audit_records_class_sequence',
      'audit_records_outcome_sequence',
      'audit_records_actor_user_sequence',
      'audit_records_actor_app_uid_sequence',
      'audit_records_actor_app_name_sequence',
    ]) {
      await queryRunner.query(`DROP INDEX ${name}`);
    }
  }
}
