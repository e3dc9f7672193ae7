import { MigrationInterface, QueryRunner } from 'typeorm';

const FAILED = "('failed_timeout', 'failed_provider', 'failed_internal')";

/**
 * What the statistics page needs to stay fast on a large `job` table (measured with
 * `npm run bench:stats` on 1 000 000 jobs): indexes that let each query read index pages only,
 * and an exact job count per slot and source kept by triggers, since counting a million rows
 * on every page load took 40–200 ms where reading the counts takes well under one.
 *
 * Three existing indexes are rebuilt under their own name with the same key and predicate plus
 * INCLUDE columns, so every query that used them still can.
 */
export class JobStatistics1763900000000 implements MigrationInterface {
  name = 'JobStatistics1763900000000';

  async up(db: QueryRunner): Promise<void> {
    // Window aggregates (counts, p95, series) read only these columns of the jobs in the window.
    await db.query('DROP INDEX job_started_idx');
    await db.query(
      'CREATE INDEX job_started_idx ON job (started_at) INCLUDE (source, slot_id, status, duration_ms)',
    );
    // The same for one slot (its stats page, each slot's p95), and index-only for the slots list.
    await db.query('DROP INDEX job_slot_started_idx');
    await db.query(
      'CREATE INDEX job_slot_started_idx ON job (slot_id, started_at DESC) INCLUDE (source, status, duration_ms)',
    );
    // Storage in use: the sum of result sizes still on disk.
    await db.query('DROP INDEX job_result_expiry_idx');
    await db.query(
      'CREATE INDEX job_result_expiry_idx ON job (result_expires_at) INCLUDE (result_size_bytes) WHERE result_path IS NOT NULL AND result_deleted_at IS NULL',
    );
    // A slot's last success and last failure, whenever they were: a short descent per slot even
    // when it has not succeeded (or failed) for months.
    await db.query(
      "CREATE INDEX job_slot_last_success_idx ON job (slot_id, finished_at DESC NULLS LAST) WHERE source = 'ingest' AND status = 'completed'",
    );
    await db.query(
      `CREATE INDEX job_slot_last_failure_idx ON job (slot_id, finished_at DESC NULLS LAST) INCLUDE (failure_reason) WHERE source = 'ingest' AND status IN ${FAILED}`,
    );

    // Index-only scans skip the heap only on pages the visibility map marks all-visible, which
    // vacuum sets. By default autovacuum waits for 20 % of the table to change: on a million jobs
    // the recent days, the pages statistics read most, would stay unmarked (a 3-day window then
    // took 320 ms instead of 60 ms in the bench). Vacuuming after 1 % keeps them marked cheaply.
    await db.query(
      'ALTER TABLE job SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01)',
    );

    await db.query(`
      CREATE TABLE job_count (
        slot_id  varchar(16) NOT NULL,
        source   varchar(16) NOT NULL,
        jobs     bigint NOT NULL,
        PRIMARY KEY (slot_id, source)
      )`);
    // Statement-level, so a bulk insert updates each counter once. Rows are taken in key order:
    // two multi-slot statements then cannot deadlock. A single ingest already holds its slot's
    // row lock, so this adds no new contention between jobs.
    await db.query(`
      CREATE FUNCTION job_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO job_count AS c (slot_id, source, jobs)
        SELECT slot_id, source, count(*) FROM added GROUP BY slot_id, source ORDER BY slot_id, source
        ON CONFLICT (slot_id, source) DO UPDATE SET jobs = c.jobs + excluded.jobs;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION job_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE job_count AS c SET jobs = c.jobs - r.jobs
        FROM (SELECT slot_id, source, count(*) AS jobs FROM removed GROUP BY slot_id, source) r
        WHERE c.slot_id = r.slot_id AND c.source = r.source;
        RETURN NULL;
      END $$`);
    // Nothing moves a job to another slot or source today; if something ever does, the counts hold.
    await db.query(`
      CREATE FUNCTION job_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE job_count SET jobs = jobs - 1 WHERE slot_id = OLD.slot_id AND source = OLD.source;
        INSERT INTO job_count AS c (slot_id, source, jobs) VALUES (NEW.slot_id, NEW.source, 1)
        ON CONFLICT (slot_id, source) DO UPDATE SET jobs = c.jobs + 1;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION job_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM job_count;
        RETURN NULL;
      END $$`);

    // Blocks writers until commit, so no job slips in between the backfill and the triggers.
    await db.query('LOCK TABLE job IN SHARE ROW EXCLUSIVE MODE');
    await db.query(
      'INSERT INTO job_count (slot_id, source, jobs) SELECT slot_id, source, count(*) FROM job GROUP BY slot_id, source',
    );
    await db.query(
      'CREATE TRIGGER job_count_added AFTER INSERT ON job REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION job_count_added()',
    );
    await db.query(
      'CREATE TRIGGER job_count_removed AFTER DELETE ON job REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION job_count_removed()',
    );
    await db.query(
      'CREATE TRIGGER job_count_moved AFTER UPDATE OF slot_id, source ON job FOR EACH ROW WHEN (OLD.slot_id IS DISTINCT FROM NEW.slot_id OR OLD.source IS DISTINCT FROM NEW.source) EXECUTE FUNCTION job_count_moved()',
    );
    await db.query(
      'CREATE TRIGGER job_count_truncated AFTER TRUNCATE ON job FOR EACH STATEMENT EXECUTE FUNCTION job_count_truncated()',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    for (const name of ['added', 'removed', 'moved', 'truncated']) {
      await db.query(`DROP TRIGGER job_count_${name} ON job`);
      await db.query(`DROP FUNCTION job_count_${name}()`);
    }
    await db.query('DROP TABLE job_count');
    await db.query(
      'ALTER TABLE job RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)',
    );
    await db.query('DROP INDEX job_slot_last_failure_idx');
    await db.query('DROP INDEX job_slot_last_success_idx');
    await db.query('DROP INDEX job_result_expiry_idx');
    await db.query(
      'CREATE INDEX job_result_expiry_idx ON job (result_expires_at) WHERE result_path IS NOT NULL AND result_deleted_at IS NULL',
    );
    await db.query('DROP INDEX job_slot_started_idx');
    await db.query('CREATE INDEX job_slot_started_idx ON job (slot_id, started_at DESC)');
    await db.query('DROP INDEX job_started_idx');
    await db.query('CREATE INDEX job_started_idx ON job (started_at)');
  }
}
