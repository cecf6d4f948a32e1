-- The last 7 days: totals and the API error rate (failed API calls / all API calls).
SELECT
    count() AS events,
    countIf(event_type = 'api_request') AS requests,
    countIf(event_type = 'api_error') AS errors,
    round(100 * errors / greatest(requests + errors, 1), 2) AS error_rate_pct,
    round(sum(cost_usd), 4) AS cost_usd,
    uniqExactIf(session_id, session_id != '') AS sessions,
    uniqExactIf(user_id, user_id != '') AS authors
FROM default.telemetry_events
WHERE timestamp >= now() - INTERVAL 7 DAY
FORMAT Pretty
