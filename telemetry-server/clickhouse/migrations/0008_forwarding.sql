-- Forwarding (agent mode, issue 10): the local store forwards its raw rows to a team server, and a
-- team server stores each forwarded group once.
--
-- Local side: every raw row keeps the number of the insert block that stored it and its offset in
-- that block (`_block_number`, `_block_offset`), also through merges; rows stored before this
-- migration get their part's block number and their offset in it (measured on chDB 26.7). The
-- forwarder reads "everything after the watermark" in (block, offset) order, so a delivery never
-- depends on the order merges happen in. ALTER … MODIFY SETTING is idempotent.
ALTER TABLE default.otel_logs MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_metrics_sum MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_metrics_gauge MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_metrics_histogram MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_metrics_exponential_histogram MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_metrics_summary MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE default.otel_traces MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;

-- The forwarder's progress per raw table, one version per change (the newest wins: argMax by seq).
-- `target` names the destination and history choice the watermark belongs to
-- (src/core/forward-config.ts forwardTargetKey); a new target starts over from its starting point.
-- The watermark is a (block, chunk) pair: chunk = intDiv(_block_offset, chunk_rows). The intent
-- (intent_to > watermark) is the range being sent: after a crash it is sent again exactly.
CREATE TABLE IF NOT EXISTS default.forward_state (
    tbl LowCardinality(String),
    target String,
    seq UInt64,
    wm_block Int64,
    wm_chunk Int64,
    intent_block Int64,
    intent_chunk Int64,
    history_block Int64,
    enabled_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(seq)
ORDER BY tbl;

-- Team side: the groups (one chunk of one local block, hashed as received) a member's agent has
-- delivered, so a group sent again (a retry after a lost reply, a history moved twice) is stored
-- once whatever batch it travels in.
CREATE TABLE IF NOT EXISTS default.forward_received (
    member LowCardinality(String),
    tbl LowCardinality(String),
    group_key String,
    received_at DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree
ORDER BY (member, tbl, group_key);
