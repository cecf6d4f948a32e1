-- Team: how much each chapter costs across contributors (terminal chapter tag), all time: tokens,
-- spend, requests, how many members worked on it, tokens per request and errors per 100 requests.
-- From daily_metrics only (the focus-attributed chapter needs raw events, which a coordinator does
-- not read).
SELECT
    chapter,
    sum(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens) AS total_tokens,
    round(sum(cost_usd), 4) AS cost_usd,
    sum(requests) AS requests,
    uniqExact(user_id) AS contributors,
    round(total_tokens / greatest(requests, 1), 1) AS avg_tokens_per_request,
    round(100 * sum(errors) / greatest(requests, 1), 1) AS errors_per_100_requests
FROM default.daily_metrics
WHERE chapter != ''
GROUP BY chapter
ORDER BY total_tokens DESC, chapter
FORMAT Pretty
