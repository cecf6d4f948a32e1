-- Which errors happen, how often, to how many sessions, and when last:
-- failed API calls (api_error) and failed tool runs (tool_result with success = 0).
SELECT
    error_type,
    status_code,
    count() AS count,
    uniqExact(session_id) AS sessions_affected,
    max(timestamp) AS last_seen
FROM default.telemetry_events
WHERE event_type = 'api_error' OR (event_type = 'tool_result' AND success = 0)
GROUP BY error_type, status_code
ORDER BY count DESC, error_type, status_code
FORMAT Pretty
