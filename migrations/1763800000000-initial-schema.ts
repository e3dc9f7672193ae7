import { MigrationInterface, QueryRunner } from 'typeorm';

/** The whole schema of SPEC §3, and the 15 fixed slots. */
export class InitialSchema1763800000000 implements MigrationInterface {
  name = 'InitialSchema1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE slot (
        id            varchar(16) PRIMARY KEY,
        display_name  varchar(100) NOT NULL,
        provider      varchar(32) CHECK (provider IN ('gemini', 'turbotext')),
        operation     varchar(64),
        settings      jsonb NOT NULL DEFAULT '{}',
        is_active     boolean NOT NULL DEFAULT false,
        version       integer NOT NULL DEFAULT 1,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        updated_by    varchar(64),
        CHECK ((provider IS NULL) = (operation IS NULL))
      )`);
    await db.query(`
      INSERT INTO slot (id, display_name)
      SELECT format('slot-%s', lpad(n::text, 3, '0')), format('Слот %s', lpad(n::text, 3, '0'))
      FROM generate_series(1, 15) AS n`);

    await db.query(`
      CREATE TABLE template_media (
        id          uuid PRIMARY KEY,
        path        text NOT NULL,
        mime_type   varchar(32) NOT NULL,
        size_bytes  bigint NOT NULL,
        sha256      char(64) NOT NULL,
        width       integer NOT NULL,
        height      integer NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  varchar(64) NOT NULL
      )`);

    await db.query(`
      CREATE TABLE slot_template_media (
        slot_id            varchar(16) NOT NULL REFERENCES slot (id),
        media_kind         varchar(32) NOT NULL,
        template_media_id  uuid NOT NULL REFERENCES template_media (id) ON DELETE RESTRICT,
        position           integer NOT NULL DEFAULT 0,
        PRIMARY KEY (slot_id, media_kind, template_media_id)
      )`);
    await db.query(
      'CREATE INDEX slot_template_media_template_idx ON slot_template_media (template_media_id)',
    );

    await db.query(`
      CREATE TABLE job (
        id                      uuid PRIMARY KEY,
        slot_id                 varchar(16) NOT NULL REFERENCES slot (id),
        source                  varchar(16) NOT NULL CHECK (source IN ('ingest', 'ui_test')),
        status                  varchar(32) NOT NULL CHECK (status IN (
                                  'pending', 'processing', 'completed', 'failed_timeout',
                                  'failed_provider', 'failed_internal', 'cancelled')),
        failure_reason          varchar(32),
        provider                varchar(32),
        operation               varchar(64),
        model                   varchar(128),
        started_at              timestamptz NOT NULL,
        deadline_at             timestamptz NOT NULL,
        finished_at             timestamptz,
        duration_ms             integer,
        provider_duration_ms    integer,
        input_sha256            char(64),
        input_size_bytes        bigint,
        input_mime_type         varchar(32),
        client_hash             varchar(256),
        hash_verified           boolean NOT NULL DEFAULT false,
        client_fields           jsonb NOT NULL DEFAULT '{}',
        dedupe_key              varchar(256),
        provider_job_reference  varchar(128),
        provider_finish_reason  varchar(64),
        provider_message        text,
        result_path             text,
        result_mime_type        varchar(32),
        result_size_bytes       bigint,
        result_checksum         char(64),
        result_width            integer,
        result_height           integer,
        result_expires_at       timestamptz,
        result_deleted_at       timestamptz,
        usage                   jsonb
      )`);
    // Recent jobs of a slot (dashboard, gallery, stats by slot).
    await db.query('CREATE INDEX job_slot_started_idx ON job (slot_id, started_at DESC)');
    // Window statistics over all slots.
    await db.query('CREATE INDEX job_started_idx ON job (started_at)');
    // Running jobs: per-slot limit and recovery of interrupted jobs.
    await db.query(
      "CREATE INDEX job_active_idx ON job (slot_id, deadline_at) WHERE status IN ('pending', 'processing')",
    );
    await db.query(
      'CREATE INDEX job_dedupe_idx ON job (slot_id, dedupe_key) WHERE dedupe_key IS NOT NULL',
    );
    // Results still on disk, for expiry.
    await db.query(
      'CREATE INDEX job_result_expiry_idx ON job (result_expires_at) WHERE result_path IS NOT NULL AND result_deleted_at IS NULL',
    );

    await db.query(`
      CREATE TABLE media_object (
        id          uuid PRIMARY KEY,
        kind        varchar(16) NOT NULL CHECK (kind IN ('ingest', 'template_link', 'upload')),
        job_id      uuid REFERENCES job (id) ON DELETE SET NULL,
        slot_id     varchar(16) REFERENCES slot (id),
        path        text NOT NULL,
        mime_type   varchar(32) NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL,
        cleaned_at  timestamptz
      )`);
    await db.query(
      'CREATE INDEX media_object_expiry_idx ON media_object (expires_at) WHERE cleaned_at IS NULL',
    );
    await db.query('CREATE INDEX media_object_job_idx ON media_object (job_id)');

    await db.query(`
      CREATE TABLE app_settings (
        key         varchar(64) PRIMARY KEY,
        value       jsonb NOT NULL,
        version     integer NOT NULL DEFAULT 1,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        updated_by  varchar(64)
      )`);

    await db.query(`
      CREATE TABLE audit_log (
        id           bigserial PRIMARY KEY,
        created_at   timestamptz NOT NULL DEFAULT now(),
        actor        varchar(64) NOT NULL,
        entity_type  varchar(32) NOT NULL,
        entity_id    varchar(64),
        action       varchar(64) NOT NULL,
        old_value    jsonb,
        new_value    jsonb
      )`);
    await db.query('CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC)');

    await db.query(`
      CREATE TABLE login_throttle (
        username           varchar(128) NOT NULL,
        ip                 varchar(64) NOT NULL,
        failures           integer NOT NULL,
        window_started_at  timestamptz NOT NULL,
        locked_until       timestamptz,
        PRIMARY KEY (username, ip)
      )`);

    await db.query(`
      CREATE TABLE gallery_share (
        token       varchar(64) PRIMARY KEY,
        slot_id     varchar(16) NOT NULL REFERENCES slot (id),
        created_at  timestamptz NOT NULL,
        created_by  varchar(64) NOT NULL,
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz
      )`);
    await db.query('CREATE INDEX gallery_share_slot_idx ON gallery_share (slot_id)');
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'gallery_share',
      'login_throttle',
      'audit_log',
      'app_settings',
      'media_object',
      'job',
      'slot_template_media',
      'template_media',
      'slot',
    ]) {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
