-- Chapter Telemetry, central mode: access control for a team's data on a ClickHouse server,
-- cluster or ClickHouse Cloud (not the embedded engine, which has no writable access storage).
-- Run once after the schema migrations (../clickhouse/migrations), by a user with ACCESS
-- MANAGEMENT: `npm run team -- central-setup --dir DIR` does it, or the overlay's init script
-- (docker-compose.yml beside this file) on an empty volume. Every statement is idempotent
-- (IF NOT EXISTS / OR REPLACE), so running it again after an upgrade is safe.
-- Members' users are made from member-add.sql (one user per member, with the role below).
--
-- The model, and why:
--   * Three roles, one per team role: ct_contributor (own rows everywhere), ct_coordinator (own
--     raw rows, every member's rows in the aggregate tables), ct_admin (all rows). A fourth,
--     ct_writer, is for the user that stores records (the team server's or collector's).
--   * Row policies are attached to ROLES, not to users: adding a member creates a user and grants
--     one role, no policy changes. A policy on a table never reaches a materialized view's TARGET
--     table (the view writes there as its definer), so every table holding member rows has its
--     own policies: the raw otel_* tables, telemetry_events, chapter_focus, and every table a view
--     writes TO (events_chapters, session_summaries, daily_metrics, events_15m, daily_errors).
--   * "All rows" is written as an explicit permissive policy (USING 1) for ct_admin, ct_coordinator
--     (aggregates) and ct_writer. ClickHouse's access_control_improvements.
--     users_without_row_policies_can_read_rows decides what a user WITHOUT any policy on a table
--     sees (true by default since 24.x: all rows; false on older or hardened servers: none). With a
--     policy for every role that reads, the answer is the same under either value. The writer
--     needs its policy when the value is false: materialized views read what it inserts.
--   * No policy is written `TO ALL EXCEPT …`: a member may run `SET ROLE NONE`, which would take
--     them out of the exception and into an "all rows" policy. With policies only on named roles,
--     a member who drops their role loses both the policy and the grants (the grants are on the
--     role too): they then read nothing.
--   * Read-only through a settings profile with `readonly = 1 CONST`: no query setting, URL
--     parameter or SET can lift it, so members cannot write, alter or create.
--   * System tables: grant none. With access_control_improvements.select_from_system_db_requires_grant
--     = true (the default since 23.x, and on ClickHouse Cloud), system.query_log, system.processes
--     and the other logs, which hold other members' query text, need a grant nobody here gets;
--     system.tables / columns / databases stay readable and list only what a user may see.
--     A server with that setting false must not host members: `central-setup` checks it.
--   * Table functions that reach files, URLs, other servers or processes (file, url, s3, remote,
--     cluster, mysql, executable, …) need source grants (READ/WRITE ON URL/FILE/REMOTE …) that no
--     role here gets; remote()/cluster() against this same server would run as the member anyway.
--   * Names: the member's ClickHouse user is the member name, which is also the `user_id` the team
--     server stamps on every record, so the policies compare with currentUser().
--
-- Self-managed cluster: keep users and roles in replicated access storage (<user_directories>
-- <replicated>), so these statements reach every node; ClickHouse Cloud does that already.

-- Read-only, with limits so one member's query cannot starve the others. Created, then altered
-- (not OR REPLACE): roles and users refer to the profile, and a re-run must keep that reference.
CREATE SETTINGS PROFILE IF NOT EXISTS ct_member_readonly;
ALTER SETTINGS PROFILE ct_member_readonly SETTINGS
    readonly = 1 CONST,
    allow_ddl = 0 CONST,
    allow_introspection_functions = 0 CONST,
    max_execution_time = 60,
    max_memory_usage = 4000000000,
    max_result_rows = 1000000,
    max_concurrent_queries_for_user = 8;

CREATE ROLE IF NOT EXISTS ct_contributor SETTINGS PROFILE 'ct_member_readonly';
CREATE ROLE IF NOT EXISTS ct_coordinator SETTINGS PROFILE 'ct_member_readonly';
CREATE ROLE IF NOT EXISTS ct_admin SETTINGS PROFILE 'ct_member_readonly';
CREATE ROLE IF NOT EXISTS ct_writer;

-- Grants on the schema: start from nothing (only default.*, which an administrator holding grants on
-- the schema alone may revoke), so re-running after a grant was removed from this file removes it there too.
REVOKE ALL ON default.* FROM ct_contributor;
REVOKE ALL ON default.* FROM ct_coordinator;
REVOKE ALL ON default.* FROM ct_admin;

-- Contributors and coordinators read the same tables; the row policies below decide which rows.
-- Not granted: the *_mv views (their target tables are granted instead) and
-- otel_traces_trace_id_ts (trace ids of every member, no user column to scope by).
GRANT SELECT ON default.otel_logs TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_traces TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_metrics_sum TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_metrics_gauge TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_metrics_histogram TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_metrics_exponential_histogram TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.otel_metrics_summary TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.telemetry_events TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.chapter_focus TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.events_attributed TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.events_chapters TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.session_summaries TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.daily_metrics TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.events_15m TO ct_contributor, ct_coordinator;
GRANT SELECT ON default.daily_errors TO ct_contributor, ct_coordinator;
-- Admins: every table and view of the schema, and the schema itself (SHOW CREATE …).
GRANT SELECT, SHOW ON default.* TO ct_admin;
-- The storing user (the team server's CLICKHOUSE_USER, the overlay's ct_ingest) inserts; the
-- materialized views then push to their targets as their definer.
GRANT INSERT, SELECT ON default.* TO ct_writer;

-- events_attributed is a plain view: it must read with the caller's rights, so the policies of
-- telemetry_events and chapter_focus apply to whoever selects from it. INVOKER is the default for
-- plain views; stating it guards against a server whose default_normal_view_sql_security is DEFINER.
ALTER TABLE default.events_attributed MODIFY SQL SECURITY INVOKER;

-- Raw OTLP tables: the server stamps ResourceAttributes['user_id'] with the sender's member name.
-- Contributors and coordinators: own rows only (prompt text, error messages, tool input live here).
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_logs AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_logs AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_traces AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_traces AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_metrics_sum AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_metrics_sum AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_metrics_gauge AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_metrics_gauge AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_metrics_histogram AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_metrics_histogram AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_metrics_exponential_histogram AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_metrics_exponential_histogram AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.otel_metrics_summary AS PERMISSIVE FOR SELECT USING ResourceAttributes['user_id'] = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.otel_metrics_summary AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;

-- Per-event tables filled by materialized views from otel_logs (error_message, file paths): own rows.
CREATE ROW POLICY OR REPLACE ct_own ON default.telemetry_events AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.telemetry_events AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.chapter_focus AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.chapter_focus AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;
-- events_chapters (0010): each event with its chapter, the sidebar's and Chapters panel's source; per event, so own rows.
CREATE ROW POLICY OR REPLACE ct_own ON default.events_chapters AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor, ct_coordinator;
CREATE ROW POLICY OR REPLACE ct_all ON default.events_chapters AS PERMISSIVE FOR SELECT USING 1 TO ct_admin, ct_writer;

-- Aggregate tables (materialized views write TO them; numbers only, no text a member typed):
-- contributors see their own rows, coordinators every member's.
CREATE ROW POLICY OR REPLACE ct_own ON default.session_summaries AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor;
CREATE ROW POLICY OR REPLACE ct_all ON default.session_summaries AS PERMISSIVE FOR SELECT USING 1 TO ct_coordinator, ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.daily_metrics AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor;
CREATE ROW POLICY OR REPLACE ct_all ON default.daily_metrics AS PERMISSIVE FOR SELECT USING 1 TO ct_coordinator, ct_admin, ct_writer;
CREATE ROW POLICY OR REPLACE ct_own ON default.events_15m AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor;
CREATE ROW POLICY OR REPLACE ct_all ON default.events_15m AS PERMISSIVE FOR SELECT USING 1 TO ct_coordinator, ct_admin, ct_writer;
-- daily_errors (day, user_id, chapter, model, status_code, errors): the team's error patterns.
CREATE ROW POLICY OR REPLACE ct_own ON default.daily_errors AS PERMISSIVE FOR SELECT USING user_id = currentUser() TO ct_contributor;
CREATE ROW POLICY OR REPLACE ct_all ON default.daily_errors AS PERMISSIVE FOR SELECT USING 1 TO ct_coordinator, ct_admin, ct_writer;
