-- One row per Claude Code event, derived from otel_logs by a materialized view.
-- Sorted by day, author, chapter and event type: the analytics filter on a time range plus
-- user/chapter, and neighbouring rows then share values, which keeps the columns small.
-- Numeric attributes arrive as strings ("28"); *OrZero conversions keep bad values from
-- failing the insert into otel_logs (bad input never loses the raw row).
-- Only typed columns here: every attribute stays in otel_logs (same 90-day retention), so
-- copying the attribute map would only double the bytes per event.

-- Who an event belongs to, one rule for every table keyed by author (telemetry_events and
-- chapter_focus must agree, or the ASOF attribution joins nothing): the extension's `user_id`
-- (resource, else record attribute), else Claude Code's user.email, user.account_uuid, user.id.
CREATE FUNCTION IF NOT EXISTS chapter_telemetry_user_id AS (res, log) -> multiIf(
    res['user_id'] != '', res['user_id'],
    log['user_id'] != '', log['user_id'],
    log['user.email'] != '', log['user.email'],
    res['user.email'] != '', res['user.email'],
    log['user.account_uuid'] != '', log['user.account_uuid'],
    res['user.account_uuid'] != '', res['user.account_uuid'],
    log['user.id'] != '', log['user.id'],
    res['user.id']);

CREATE TABLE IF NOT EXISTS default.telemetry_events (
    timestamp DateTime64(3) CODEC(Delta, ZSTD(3)),
    event_type LowCardinality(String) CODEC(ZSTD(3)),
    service_name LowCardinality(String) CODEC(ZSTD(3)),
    user_id LowCardinality(String) CODEC(ZSTD(3)),
    session_id String CODEC(ZSTD(3)),
    prompt_id String CODEC(ZSTD(3)),
    event_sequence UInt64 CODEC(T64, ZSTD(3)),
    model LowCardinality(String) CODEC(ZSTD(3)),
    cost_usd Float64 CODEC(ZSTD(3)),
    input_tokens UInt64 CODEC(T64, ZSTD(3)),
    output_tokens UInt64 CODEC(T64, ZSTD(3)),
    cache_read_tokens UInt64 CODEC(T64, ZSTD(3)),
    cache_creation_tokens UInt64 CODEC(T64, ZSTD(3)),
    token_count UInt64 CODEC(T64, ZSTD(3)),
    duration_ms Float64 CODEC(ZSTD(3)),
    status_code UInt16 CODEC(T64, ZSTD(3)),
    error_type LowCardinality(String) CODEC(ZSTD(3)),
    error_message String CODEC(ZSTD(3)),
    attempt UInt32 CODEC(T64, ZSTD(3)),
    tool_name LowCardinality(String) CODEC(ZSTD(3)),
    success UInt8 CODEC(T64, ZSTD(3)),
    decision LowCardinality(String) CODEC(ZSTD(3)),
    chapter_context LowCardinality(String) CODEC(ZSTD(3)),
    workspace LowCardinality(String) CODEC(ZSTD(3)),
    terminal_type LowCardinality(String) CODEC(ZSTD(3)),
    app_version LowCardinality(String) CODEC(ZSTD(3)),
    request_id String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (toDate(timestamp), user_id, chapter_context, event_type, timestamp)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.telemetry_events_mv
TO default.telemetry_events
AS SELECT
    ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS timestamp,
    LogAttributes['event.name'] AS event_type,
    ServiceName AS service_name,
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
    multiIf(
        event_type IN ('api_error', 'api_retries_exhausted'),
            multiIf(status_code = 0, 'connection_error',
                    status_code = 429, 'rate_limit_error',
                    status_code = 529, 'overloaded_error',
                    status_code = 401, 'authentication_error',
                    status_code = 403, 'permission_error',
                    status_code = 413, 'request_too_large',
                    status_code >= 400 AND status_code < 500, 'invalid_request_error',
                    'api_error'),
        event_type = 'tool_result' AND success = 0, LogAttributes['error_type'],
        '') AS error_type,
    LogAttributes['error'] AS error_message,
    toUInt32OrZero(if(LogAttributes['attempt'] != '', LogAttributes['attempt'], LogAttributes['total_attempts'])) AS attempt,
    LogAttributes['tool_name'] AS tool_name,
    toUInt8(multiIf(
        event_type = 'tool_result', lower(LogAttributes['success']) IN ('true', '1'),
        event_type IN ('api_error', 'api_retries_exhausted'), 0,
        1)) AS success,
    LogAttributes['decision'] AS decision,
    if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS chapter_context,
    if(mapContains(LogAttributes, 'workspace'), LogAttributes['workspace'], ResourceAttributes['workspace']) AS workspace,
    if(LogAttributes['terminal.type'] != '', LogAttributes['terminal.type'], ResourceAttributes['terminal.type']) AS terminal_type,
    if(LogAttributes['app.version'] != '', LogAttributes['app.version'], ResourceAttributes['service.version']) AS app_version,
    LogAttributes['request_id'] AS request_id
FROM default.otel_logs
WHERE mapContains(LogAttributes, 'event.name') AND LogAttributes['event.name'] != 'chapter_focus';
