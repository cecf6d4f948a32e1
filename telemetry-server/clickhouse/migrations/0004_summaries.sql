-- Rollups fed by materialized views from telemetry_events. Parts merge in the background, so a
-- key can have several rows until then: always read with aggregation + GROUP BY (README.md).
-- Requests are api_request events; errors are api_error events (one per failed API attempt).

-- Per session. SimpleAggregateFunction columns merge with the named function; read them with
-- the same function: min(first_seen), max(last_seen), sum(cost_usd), groupUniqArrayArray(chapters).
CREATE TABLE IF NOT EXISTS default.session_summaries (
    user_id LowCardinality(String),
    session_id String,
    chapters SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    first_seen SimpleAggregateFunction(min, DateTime64(3)),
    last_seen SimpleAggregateFunction(max, DateTime64(3)),
    cost_usd SimpleAggregateFunction(sum, Float64),
    tokens SimpleAggregateFunction(sum, UInt64),
    requests SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY (user_id, session_id)
TTL toDateTime(last_seen) + INTERVAL 365 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.session_summaries_mv
TO default.session_summaries
AS SELECT
    user_id,
    session_id,
    groupUniqArrayIf(toString(chapter_context), chapter_context != '') AS chapters,
    min(timestamp) AS first_seen,
    max(timestamp) AS last_seen,
    sum(cost_usd) AS cost_usd,
    sum(token_count) AS tokens,
    countIf(event_type = 'api_request') AS requests,
    countIf(event_type = 'api_error') AS errors
FROM default.telemetry_events
WHERE session_id != ''
GROUP BY user_id, session_id;

-- Per day × author × chapter (terminal tag) × model; kept forever. SummingMergeTree adds the
-- numeric columns of rows with the same key: read with sum() + GROUP BY.
CREATE TABLE IF NOT EXISTS default.daily_metrics (
    day Date,
    user_id LowCardinality(String),
    chapter LowCardinality(String),
    model LowCardinality(String),
    cost_usd Float64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_creation_tokens UInt64,
    requests UInt64,
    errors UInt64
) ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, user_id, chapter, model);

CREATE MATERIALIZED VIEW IF NOT EXISTS default.daily_metrics_mv
TO default.daily_metrics
AS SELECT
    toDate(timestamp) AS day,
    user_id,
    chapter_context AS chapter,
    model,
    sum(cost_usd) AS cost_usd,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    countIf(event_type = 'api_request') AS requests,
    countIf(event_type = 'api_error') AS errors
FROM default.telemetry_events
WHERE event_type IN ('api_request', 'api_error')
GROUP BY day, user_id, chapter, model;
