-- Errors per day × author × chapter (terminal tag) × model × kind, kept forever like daily_metrics:
-- the team's error patterns read from here, so a coordinator needs no raw event (team server,
-- docs/SECURITY.md "Team reads"). Kinds: failed API calls (api_error, api_retries_exhausted: the
-- status code and its category) and failed tool runs (tool_result with success = 0: the tool and
-- its error type). No error message text: that is content, and stays in the raw tables only.
-- SummingMergeTree adds `errors` and `attempts` of rows with the same key: read with sum() + GROUP BY.

CREATE TABLE IF NOT EXISTS default.daily_errors (
    day Date,
    user_id LowCardinality(String),
    chapter LowCardinality(String),
    model LowCardinality(String),
    event_type LowCardinality(String),
    error_type LowCardinality(String),
    status_code UInt16,
    tool_name LowCardinality(String),
    errors UInt64,
    attempts UInt64
) ENGINE = SummingMergeTree((errors, attempts))
PARTITION BY toYYYYMM(day)
ORDER BY (day, user_id, chapter, model, event_type, error_type, status_code, tool_name)
-- Like every table a retried export reaches (0006_insert_deduplication.sql).
SETTINGS non_replicated_deduplication_window = 1000;

-- The events already stored, once: before the view exists (so no row is counted by both), and only
-- while the table is still empty (a rerun of this file, e.g. by the official image's initdb, adds
-- nothing). Migrations run before the receiver accepts records, so nothing arrives in between.
INSERT INTO default.daily_errors
SELECT
    toDate(timestamp) AS day,
    user_id,
    chapter_context AS chapter,
    model,
    event_type,
    error_type,
    status_code,
    tool_name,
    count() AS errors,
    sum(attempt) AS attempts
FROM default.telemetry_events
WHERE (event_type IN ('api_error', 'api_retries_exhausted') OR (event_type = 'tool_result' AND success = 0))
  AND (SELECT count() FROM default.daily_errors) = 0
GROUP BY day, user_id, chapter, model, event_type, error_type, status_code, tool_name;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.daily_errors_mv
TO default.daily_errors
AS SELECT
    toDate(timestamp) AS day,
    user_id,
    chapter_context AS chapter,
    model,
    event_type,
    error_type,
    status_code,
    tool_name,
    count() AS errors,
    sum(attempt) AS attempts
FROM default.telemetry_events
WHERE event_type IN ('api_error', 'api_retries_exhausted') OR (event_type = 'tool_result' AND success = 0)
GROUP BY day, user_id, chapter, model, event_type, error_type, status_code, tool_name;
