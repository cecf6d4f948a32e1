-- Team: spend, tokens, requests and errors per member over the last 30 days, from the daily
-- aggregate only (a coordinator reads every member's aggregates, never their raw events).
SELECT
    user_id AS member,
    round(sum(cost_usd), 4) AS cost_usd,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens) AS tokens,
    sum(requests) AS requests,
    sum(errors) AS errors,
    uniqExactIf(chapter, chapter != '') AS chapters,
    max(day) AS last_active
FROM default.daily_metrics
WHERE day >= today() - 29
GROUP BY member
ORDER BY cost_usd DESC, member
FORMAT Pretty
