-- Attribution at insert time (issue 12): each Claude Code event with the chapter its author had in
-- focus, resolved when the event is stored, so the sidebar and the Chapters panel read plain columns
-- instead of running the focus-timeline ASOF join (events_attributed, 0003) on every refresh.
--
-- The answer is exactly events_attributed's: the same ASOF rule, the same 8-hour limit, the same
-- fallback to the terminal's tag. What keeps it exact when focus records arrive late (after the
-- events they cover), out of order, or in the same export as the events:
-- - An event's chapter depends only on its author's latest focus record at or before it, and only if
--   that record is at most 8 hours older (else the terminal tag, whatever older records say). Every
--   computed row carries the time of the focus record it took its chapter from (`focus_ts`; 1970 when
--   none within 8 hours), and the table is a ReplacingMergeTree versioned by it: of all the rows ever
--   computed for one event, the one that saw the latest record wins, and that is the ASOF answer,
--   whatever order the rows were computed in.
-- - events_chapters_mv computes each new event's row when it is stored in telemetry_events, from the
--   focus records stored by earlier inserts (typed columns only: cheap).
-- - events_chapters_same_block_mv: inside one insert, the tables other views fill are not visible yet
--   (measured on chDB 26.7: a focus record and an event in one otel_logs block were both missed,
--   depending on the order the engine ran the views in). So for an otel_logs block that carries focus
--   records, its events are computed again from the block itself, against the stored records plus the
--   block's. Blocks without a focus record (nearly all) cost it nothing.
-- - events_chapters_refocus_mv, when an otel_logs block brings focus records, computes again the stored
--   events each record may change: its author's, from the record's time to 8 hours later (an event more
--   than 8 hours after a record does not take its chapter, an event before it not at all).
-- The same holds between the blocks of one statement: what a block's views store is visible to the
-- next block only after the statement ends. An insert larger than one block (the engine cuts at about a
-- million rows or 256 MB) must therefore carry focus records and events in separate statements, focus
-- first: Switch Mode's history copy does (src/stack/migrate-history.ts); OTLP exports are far smaller.
-- The embedded server inserts into otel_logs one block at a time. Two otel_logs inserts running at the
-- same moment (possible with Docker mode's collector) could each miss the other's rows; the next
-- focus record of that author within 8 hours recomputes the window. Focus records written straight
-- into chapter_focus (not through otel_logs) attribute later events only.
-- Reads: `FROM events_chapters FINAL` (src/core/queries), one row per event. FINAL merges only the
-- key ranges more than one part holds; after background merges it reads plain rows.
--
-- Identity: ReplacingMergeTree keeps one row per sort key, so the key is the event's author, time and a
-- hash of its other stored columns (chapter_telemetry_event_key). Two events identical in every one of
-- them (session, prompt, sequence number, millisecond, type, cost, tokens...) would count once here;
-- Claude Code numbers its events (event.sequence) and a retried export is stored once (0006), so real
-- records never are. Two focus records of one author in the same millisecond: the view's ASOF join
-- picks either; so does this table.
--
-- Only the columns the chapter figures read (sidebar, Chapters panel, cost by chapter, chapter
-- budgets); the error drill-downs keep reading events_attributed. The same-block view derives the event
-- columns from otel_logs exactly as telemetry_events_mv (0002) does (test/server/events-chapters.test.ts
-- compares both tables row by row, and the table's row count with telemetry_events'). Retention as telemetry_events (src/core/data/retention-rules.ts);
-- member rows, so it is in the team read lists (src/server/team/read-scope.ts) and has its row policy
-- (telemetry-server/central/access.sql). Derived: never forwarded or copied between modes (only raw
-- tables are; these views rebuild it on the other side).

CREATE FUNCTION IF NOT EXISTS chapter_telemetry_event_key AS (
    event_type, session_id, prompt_id, event_sequence, request_id, model, cost_usd, token_count,
    duration_ms, status_code, attempt, tool_name, error_message, chapter_context) ->
    sipHash64(toString(event_type), session_id, prompt_id, toUInt64(event_sequence), request_id, toString(model), toFloat64(cost_usd),
              toUInt64(token_count), toFloat64(duration_ms), toUInt16(status_code), toUInt32(attempt), toString(tool_name),
              error_message, toString(chapter_context));

CREATE TABLE IF NOT EXISTS default.events_chapters (
    timestamp DateTime64(3) CODEC(Delta, ZSTD(3)),
    user_id LowCardinality(String) CODEC(ZSTD(3)),
    event_key UInt64 CODEC(ZSTD(3)),
    event_type LowCardinality(String) CODEC(ZSTD(3)),
    session_id String CODEC(ZSTD(3)),
    -- Distinct sessions are counted over this hash (as events_15m does), 0 for "no session": a 64-bit
    -- number hashes and compares at a fraction of a string's cost, and the Chapters panel then never
    -- reads session_id (measured on 10M events: its query 3× faster).
    session_hash UInt64 MATERIALIZED if(session_id = '', 0, sipHash64(session_id)) CODEC(ZSTD(3)),
    model LowCardinality(String) CODEC(ZSTD(3)),
    cost_usd Float64 CODEC(ZSTD(3)),
    input_tokens UInt64 CODEC(T64, ZSTD(3)),
    output_tokens UInt64 CODEC(T64, ZSTD(3)),
    cache_read_tokens UInt64 CODEC(T64, ZSTD(3)),
    cache_creation_tokens UInt64 CODEC(T64, ZSTD(3)),
    token_count UInt64 CODEC(T64, ZSTD(3)),
    chapter_context LowCardinality(String) CODEC(ZSTD(3)),
    -- The focus record this row's chapter was decided by (the version: the latest one wins).
    focus_ts DateTime64(3) CODEC(Delta, ZSTD(3)),
    chapter LowCardinality(String) CODEC(ZSTD(3)),
    chapter_source LowCardinality(String) CODEC(ZSTD(3))
) ENGINE = ReplacingMergeTree(focus_ts)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (user_id, timestamp, event_key)
TTL toDateTime(timestamp) + INTERVAL 90 DAY
-- Like every table a retried export reaches (0006_insert_deduplication.sql).
SETTINGS non_replicated_deduplication_window = 1000;

-- The events already stored, once: before the views exist, and only while the table is empty (a rerun
-- of this file adds nothing). Migrations run before the receiver accepts records.
INSERT INTO default.events_chapters
SELECT
    e.timestamp AS timestamp, e.user_id AS user_id,
    chapter_telemetry_event_key(e.event_type, e.session_id, e.prompt_id, e.event_sequence, e.request_id, e.model, e.cost_usd,
        e.token_count, e.duration_ms, e.status_code, e.attempt, e.tool_name, e.error_message, e.chapter_context) AS event_key,
    e.event_type AS event_type, e.session_id AS session_id, e.model AS model, e.cost_usd AS cost_usd,
    e.input_tokens AS input_tokens, e.output_tokens AS output_tokens, e.cache_read_tokens AS cache_read_tokens,
    e.cache_creation_tokens AS cache_creation_tokens, e.token_count AS token_count, e.chapter_context AS chapter_context,
    if(f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_ts, toDateTime64(0, 3)) AS focus_ts,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_chapter,
            e.chapter_context != '', toString(e.chapter_context),
            '') AS chapter,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), 'focus',
            e.chapter_context != '', 'terminal',
            'none') AS chapter_source
FROM default.telemetry_events AS e
ASOF LEFT JOIN (
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts
WHERE (SELECT count() FROM default.events_chapters) = 0;

-- New events (the common case): a telemetry_events block against the focus records stored before it.
-- Reads typed columns only, so it adds little to an insert.
CREATE MATERIALIZED VIEW IF NOT EXISTS default.events_chapters_mv
TO default.events_chapters
AS SELECT
    e.timestamp AS timestamp, e.user_id AS user_id,
    chapter_telemetry_event_key(e.event_type, e.session_id, e.prompt_id, e.event_sequence, e.request_id, e.model, e.cost_usd,
        e.token_count, e.duration_ms, e.status_code, e.attempt, e.tool_name, e.error_message, e.chapter_context) AS event_key,
    e.event_type AS event_type, e.session_id AS session_id, e.model AS model, e.cost_usd AS cost_usd,
    e.input_tokens AS input_tokens, e.output_tokens AS output_tokens, e.cache_read_tokens AS cache_read_tokens,
    e.cache_creation_tokens AS cache_creation_tokens, e.token_count AS token_count, e.chapter_context AS chapter_context,
    if(f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_ts, toDateTime64(0, 3)) AS focus_ts,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_chapter,
            e.chapter_context != '', toString(e.chapter_context),
            '') AS chapter,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), 'focus',
            e.chapter_context != '', 'terminal',
            'none') AS chapter_source
FROM default.telemetry_events AS e
ASOF LEFT JOIN (
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
    -- In a view, `default.telemetry_events` names the inserted block: its authors, from 8 hours before its first event.
    WHERE toString(user_id) IN (SELECT toString(user_id) FROM default.telemetry_events)
      AND timestamp >= (SELECT min(timestamp) FROM default.telemetry_events) - toIntervalHour(8)
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts;

-- Events that arrive in the same otel_logs block as focus records: the view above cannot see those
-- records (chapter_focus holds them only once the whole insert is done), so these events are attributed
-- again from the block itself, against the stored focus records plus the block's. Inside a materialized
-- view, `default.otel_logs` names the inserted block (every mention). Only blocks that carry a focus
-- record do any work (the WHERE is false at once for the others); the event columns are
-- telemetry_events_mv's expressions (0002), the ones this table keeps.
CREATE MATERIALIZED VIEW IF NOT EXISTS default.events_chapters_same_block_mv
TO default.events_chapters
AS SELECT
    e.timestamp AS timestamp, e.user_id AS user_id,
    chapter_telemetry_event_key(e.event_type, e.session_id, e.prompt_id, e.event_sequence, e.request_id, e.model, e.cost_usd,
        e.token_count, e.duration_ms, e.status_code, e.attempt, e.tool_name, e.error_message, e.chapter_context) AS event_key,
    e.event_type AS event_type, e.session_id AS session_id, e.model AS model, e.cost_usd AS cost_usd,
    e.input_tokens AS input_tokens, e.output_tokens AS output_tokens, e.cache_read_tokens AS cache_read_tokens,
    e.cache_creation_tokens AS cache_creation_tokens, e.token_count AS token_count, e.chapter_context AS chapter_context,
    if(f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_ts, toDateTime64(0, 3)) AS focus_ts,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_chapter,
            e.chapter_context != '', toString(e.chapter_context),
            '') AS chapter,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), 'focus',
            e.chapter_context != '', 'terminal',
            'none') AS chapter_source
FROM (
    SELECT
        ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS timestamp,
        LogAttributes['event.name'] AS event_type,
        chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS user_id,
        LogAttributes['session.id'] AS session_id,
        LogAttributes['prompt.id'] AS prompt_id,
        toUInt64OrZero(LogAttributes['event.sequence']) AS event_sequence,
        LogAttributes['model'] AS model,
        toFloat64OrZero(LogAttributes['cost_usd']) AS cost_usd,
        toUInt64OrZero(LogAttributes['input_tokens']) AS input_tokens,
        toUInt64OrZero(LogAttributes['output_tokens']) AS output_tokens,
        toUInt64OrZero(LogAttributes['cache_read_tokens']) AS cache_read_tokens,
        toUInt64OrZero(LogAttributes['cache_creation_tokens']) AS cache_creation_tokens,
        input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens AS token_count,
        toFloat64OrZero(LogAttributes['duration_ms']) AS duration_ms,
        toUInt16OrZero(LogAttributes['status_code']) AS status_code,
        LogAttributes['error'] AS error_message,
        toUInt32OrZero(if(LogAttributes['attempt'] != '', LogAttributes['attempt'], LogAttributes['total_attempts'])) AS attempt,
        LogAttributes['tool_name'] AS tool_name,
        if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS chapter_context,
        LogAttributes['request_id'] AS request_id
    FROM default.otel_logs
    WHERE (SELECT count() FROM default.otel_logs WHERE LogAttributes['event.name'] = 'chapter_focus') > 0
      AND mapContains(LogAttributes, 'event.name') AND LogAttributes['event.name'] != 'chapter_focus'
) AS e
ASOF LEFT JOIN (
    -- The block's authors' focus records from 8 hours before its first event on: stored ones and the block's own.
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
    WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.otel_logs)
      AND timestamp >= (SELECT min(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.otel_logs) - toIntervalHour(8)
    UNION ALL
    SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS focus_user, ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS focus_ts,
        if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS focus_chapter
    FROM default.otel_logs
    WHERE LogAttributes['event.name'] = 'chapter_focus'
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts;

-- Stored events a block's focus records may change, computed again against the whole timeline (the
-- stored records and the block's). Starts from the block's focus records (the view's source table
-- must come first), joins the stored events of their authors within 8 hours after each.
CREATE MATERIALIZED VIEW IF NOT EXISTS default.events_chapters_refocus_mv
TO default.events_chapters
AS SELECT
    e.timestamp AS timestamp, e.user_id AS user_id,
    chapter_telemetry_event_key(e.event_type, e.session_id, e.prompt_id, e.event_sequence, e.request_id, e.model, e.cost_usd,
        e.token_count, e.duration_ms, e.status_code, e.attempt, e.tool_name, e.error_message, e.chapter_context) AS event_key,
    e.event_type AS event_type, e.session_id AS session_id, e.model AS model, e.cost_usd AS cost_usd,
    e.input_tokens AS input_tokens, e.output_tokens AS output_tokens, e.cache_read_tokens AS cache_read_tokens,
    e.cache_creation_tokens AS cache_creation_tokens, e.token_count AS token_count, e.chapter_context AS chapter_context,
    if(f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_ts, toDateTime64(0, 3)) AS focus_ts,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_chapter,
            e.chapter_context != '', toString(e.chapter_context),
            '') AS chapter,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), 'focus',
            e.chapter_context != '', 'terminal',
            'none') AS chapter_source
FROM (
    SELECT DISTINCT ev.*
    FROM (
        SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS w_user, ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS w_start
        FROM default.otel_logs
        WHERE LogAttributes['event.name'] = 'chapter_focus'
    ) AS w
    INNER JOIN (
        SELECT * FROM default.telemetry_events
        WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.otel_logs
                                    WHERE LogAttributes['event.name'] = 'chapter_focus')
          AND timestamp >= (SELECT min(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.otel_logs WHERE LogAttributes['event.name'] = 'chapter_focus')
          AND timestamp <= (SELECT max(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.otel_logs WHERE LogAttributes['event.name'] = 'chapter_focus')
                           + toIntervalHour(8)
    ) AS ev ON toString(ev.user_id) = w.w_user
    WHERE ev.timestamp >= w.w_start AND ev.timestamp <= w.w_start + toIntervalHour(8)
) AS e
ASOF LEFT JOIN (
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
    WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.otel_logs
                                WHERE LogAttributes['event.name'] = 'chapter_focus')
    UNION ALL
    SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS focus_user, ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS focus_ts,
        if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS focus_chapter
    FROM default.otel_logs
    WHERE LogAttributes['event.name'] = 'chapter_focus'
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts;
