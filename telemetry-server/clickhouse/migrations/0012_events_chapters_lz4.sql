-- The columns of events_chapters (0010) that the sidebar's chapter board and the Chapters panel read on every
-- refresh are stored with LZ4 instead of ZSTD(3): those queries spend much of their time decompressing (issue 12,
-- "attribution at insert time": sidebar at 1M events ≤ 100 ms, Chapters panel at 10M ≤ 400 ms).
--
-- Measured on the analytics bench's data (bare chDB, same SQL, one table with each codec, interleaved, CPU time):
-- the chapter board 47 → 34 ms at 1M events and 419 → 301 ms at 10M; the Chapters panel 79 → 66 ms at 1M and
-- 816 → 697 ms at 10M. The price is disk: events_chapters 29 → 33 MiB per million events (+16 %). LZ4 also
-- compresses faster than ZSTD, so storing rows costs no more.
--
-- Only the columns those queries read: the FINAL key and version (user_id, timestamp, event_key, focus_ts), the
-- filters and groups (event_type, chapter) and the figures (cost_usd, token_count, session_hash). The rest
-- (session_id, model, the four token kinds, chapter_context, chapter_source) is read by rarer queries and keeps ZSTD.
-- Timestamps keep their Delta step. The types, defaults and the MATERIALIZED expression stay as they are.
--
-- Metadata only: parts already stored keep ZSTD until a background merge rewrites them (new parts are written
-- with LZ4 at once); every part is gone within the 90-day retention anyway, so no rewrite at start-up, which
-- on a large store would hold back the receiver. Idempotent: a rerun sets the same codecs.
ALTER TABLE default.events_chapters
    MODIFY COLUMN timestamp CODEC(Delta, LZ4),
    MODIFY COLUMN user_id CODEC(LZ4),
    MODIFY COLUMN event_key CODEC(LZ4),
    MODIFY COLUMN event_type CODEC(LZ4),
    MODIFY COLUMN session_hash CODEC(LZ4),
    MODIFY COLUMN cost_usd CODEC(LZ4),
    MODIFY COLUMN token_count CODEC(LZ4),
    MODIFY COLUMN focus_ts CODEC(Delta, LZ4),
    MODIFY COLUMN chapter CODEC(LZ4);
