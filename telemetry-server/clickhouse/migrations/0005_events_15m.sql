-- Quarter-hour rollup of telemetry_events per author and model, so the sidebar's totals, cost by
-- model and daily cost read a few thousand rows instead of every event. Fifteen minutes because
-- every time zone's midnight falls on a quarter hour: local "today", "last 7 days" and local days
-- are exact sums of whole buckets. Sessions are kept as exact uniq states, merged at query time.
-- Retention follows the raw events (90 days by default; src/server/retention.ts).

CREATE TABLE IF NOT EXISTS default.events_15m (
    bucket DateTime CODEC(Delta, ZSTD(3)),
    user_id LowCardinality(String),
    model LowCardinality(String),
    cost_usd SimpleAggregateFunction(sum, Float64),
    requests SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens SimpleAggregateFunction(sum, UInt64),
    cache_creation_tokens SimpleAggregateFunction(sum, UInt64),
    errors SimpleAggregateFunction(sum, UInt64),
    sessions AggregateFunction(uniqExact, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (user_id, bucket, model)
TTL bucket + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.events_15m_mv
TO default.events_15m
AS SELECT
    toDateTime(toStartOfFifteenMinutes(timestamp)) AS bucket,
    user_id,
    model,
    sumIf(cost_usd, event_type = 'api_request') AS cost_usd,
    countIf(event_type = 'api_request') AS requests,
    sumIf(input_tokens, event_type = 'api_request') AS input_tokens,
    sumIf(output_tokens, event_type = 'api_request') AS output_tokens,
    sumIf(cache_read_tokens, event_type = 'api_request') AS cache_read_tokens,
    sumIf(cache_creation_tokens, event_type = 'api_request') AS cache_creation_tokens,
    countIf(event_type = 'api_error') AS errors,
    uniqExactStateIf(sipHash64(session_id), session_id != '') AS sessions
FROM default.telemetry_events
GROUP BY bucket, user_id, model;
