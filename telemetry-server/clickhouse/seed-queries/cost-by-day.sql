-- Cost and API requests per day over the last 30 days (today included).
SELECT
    toDate(timestamp) AS day,
    round(sum(cost_usd), 4) AS cost_usd,
    countIf(event_type = 'api_request') AS requests
FROM default.telemetry_events
WHERE timestamp >= toStartOfDay(now()) - INTERVAL 29 DAY
GROUP BY day
ORDER BY day
FORMAT Pretty
