-- The chapter timeline: the extension sends an OTLP log record (service.name
-- `chapter-telemetry`, event.name `chapter_focus`) whenever the chapter in focus changes.
-- events_attributed gives each Claude Code event the chapter its author had in focus then.

CREATE TABLE IF NOT EXISTS default.chapter_focus (
    timestamp DateTime64(3) CODEC(Delta, ZSTD(3)),
    user_id LowCardinality(String) CODEC(ZSTD(3)),
    chapter String CODEC(ZSTD(3)),
    workspace String CODEC(ZSTD(3)),
    file String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (user_id, timestamp)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.chapter_focus_mv
TO default.chapter_focus
AS SELECT
    ifNull(parseDateTime64BestEffortOrNull(LogAttributes['event.timestamp'], 3, 'UTC'), toDateTime64(Timestamp, 3)) AS timestamp,
    chapter_telemetry_user_id(ResourceAttributes, LogAttributes) AS user_id,
    if(mapContains(LogAttributes, 'chapter'), LogAttributes['chapter'], ResourceAttributes['chapter']) AS chapter,
    if(mapContains(LogAttributes, 'workspace'), LogAttributes['workspace'], ResourceAttributes['workspace']) AS workspace,
    LogAttributes['file'] AS file
FROM default.otel_logs
WHERE LogAttributes['event.name'] = 'chapter_focus';

-- The focus wins when it is at most 8 hours older than the event; else the terminal's launch
-- tag (chapter_context); else none. ASOF picks the latest focus at or before the event.
CREATE VIEW IF NOT EXISTS default.events_attributed AS
SELECT
    e.*,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), f.focus_chapter,
            e.chapter_context != '', toString(e.chapter_context),
            '') AS chapter,
    multiIf(f.focus_chapter != '' AND f.focus_ts >= e.timestamp - toIntervalHour(8), 'focus',
            e.chapter_context != '', 'terminal',
            'none') AS chapter_source
FROM default.telemetry_events AS e
ASOF LEFT JOIN (
    SELECT toString(user_id) AS focus_user, timestamp AS focus_ts, chapter AS focus_chapter
    FROM default.chapter_focus
) AS f ON toString(e.user_id) = f.focus_user AND e.timestamp >= f.focus_ts;
