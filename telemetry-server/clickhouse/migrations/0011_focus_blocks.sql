-- Insert-time attribution's two focus-record views (0010) run only for the otel_logs blocks that carry a
-- focus record, instead of for every block (issue 12: the engine's fixed cost per insert).
--
-- Measured before this change (bench/ingest-profile.bench.ts): every otel_logs insert, whatever its size,
-- cost the engine ~0.1 s of CPU, most of it the materialized views' own planning and joins, and
-- events_chapters_same_block_mv and events_chapters_refocus_mv ran on every block although only the rare
-- block with a focus record gives them anything to do (their WHERE made the rest empty, but the joins'
-- right sides were still built). The engine does not run a view whose source block is empty (measured on
-- chDB 26.7: a view chained behind a view whose SELECT returned no rows never ran), so:
-- - focus_blocks (Null engine: stores nothing) receives the whole otel_logs block when, and only when,
--   it carries a chapter_focus record (focus_blocks_mv);
-- - the two views move behind it, with 0010's SQL unchanged but for the name of the block they read
--   (`default.focus_blocks` names the inserted block inside a view on it, as `default.otel_logs` did).
-- What they store, and when, is what 0010's did: test/server/events-chapters.test.ts runs the same cases.
-- The views keep their names; only the table they listen to changes.

DROP VIEW IF EXISTS default.events_chapters_same_block_mv;
DROP VIEW IF EXISTS default.events_chapters_refocus_mv;

CREATE TABLE IF NOT EXISTS default.focus_blocks AS default.otel_logs ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.focus_blocks_mv
TO default.focus_blocks
AS SELECT *
FROM default.otel_logs
WHERE (SELECT count() FROM default.otel_logs WHERE LogAttributes['event.name'] = 'chapter_focus') > 0;

-- Events that arrive in the same otel_logs block as focus records: the view above cannot see those
-- records (chapter_focus holds them only once the whole insert is done), so these events are attributed
-- again from the block itself, against the stored focus records plus the block's. Inside a materialized
-- view, `default.focus_blocks` names the inserted block (every mention). Only blocks that carry a focus
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
    FROM default.focus_blocks
    WHERE mapContains(LogAttributes, 'event.name') AND LogAttributes['event.name'] != 'chapter_focus'
) AS e
ASOF LEFT JOIN (
    -- The block's authors' focus records from 8 hours before its first event on: stored ones and the block's own.
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
    WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.focus_blocks)
      AND timestamp >= (SELECT min(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.focus_blocks) - toIntervalHour(8)
    UNION ALL
    SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS focus_user, ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS focus_ts,
        if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS focus_chapter
    FROM default.focus_blocks
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
        FROM default.focus_blocks
        WHERE LogAttributes['event.name'] = 'chapter_focus'
    ) AS w
    INNER JOIN (
        SELECT * FROM default.telemetry_events
        WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.focus_blocks
                                    WHERE LogAttributes['event.name'] = 'chapter_focus')
          AND timestamp >= (SELECT min(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.focus_blocks WHERE LogAttributes['event.name'] = 'chapter_focus')
          AND timestamp <= (SELECT max(ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3))) FROM default.focus_blocks WHERE LogAttributes['event.name'] = 'chapter_focus')
                           + toIntervalHour(8)
    ) AS ev ON toString(ev.user_id) = w.w_user
    WHERE ev.timestamp >= w.w_start AND ev.timestamp <= w.w_start + toIntervalHour(8)
) AS e
ASOF LEFT JOIN (
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
    WHERE toString(user_id) IN (SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) FROM default.focus_blocks
                                WHERE LogAttributes['event.name'] = 'chapter_focus')
    UNION ALL
    SELECT chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS focus_user, ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS focus_ts,
        if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS focus_chapter
    FROM default.focus_blocks
    WHERE LogAttributes['event.name'] = 'chapter_focus'
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts;
