-- Team: which errors happen, how often, to how many members and in how many chapters, over the
-- last 30 days: failed API calls by status and category, failed tools by tool and error type.
-- From daily_errors (0007): counts and kinds only, no error message text.
SELECT
    event_type,
    error_type,
    status_code,
    tool_name,
    sum(errors) AS errors,
    uniqExact(user_id) AS members_affected,
    uniqExactIf(chapter, chapter != '') AS chapters_affected,
    max(day) AS last_seen
FROM default.daily_errors
WHERE day >= today() - 29
GROUP BY event_type, error_type, status_code, tool_name
ORDER BY errors DESC, event_type, error_type, status_code, tool_name
FORMAT Pretty
