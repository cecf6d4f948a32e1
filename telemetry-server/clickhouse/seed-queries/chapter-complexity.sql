-- Tokens per chapter: the chapter the author had in focus (else the terminal's tag), API requests only.
SELECT
    chapter,
    sum(token_count) AS total_tokens,
    uniqExact(user_id) AS contributors,
    round(avg(token_count), 1) AS avg_tokens_per_request,
    count() AS requests
FROM default.events_attributed
WHERE event_type = 'api_request' AND chapter != ''
GROUP BY chapter
ORDER BY total_tokens DESC, chapter
FORMAT Pretty
