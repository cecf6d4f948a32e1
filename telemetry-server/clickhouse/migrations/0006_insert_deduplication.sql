-- Insert deduplication, so a retried export is never stored twice and a retry completes exactly
-- what a failed insert left out (issue "disk full": the raw insert landed, a view's push failed).
-- The receiver sends each insert with `insert_deduplication_token` (a hash of the export's rows)
-- and `deduplicate_blocks_in_dependent_materialized_views = 1`: the engine then skips blocks it
-- already holds, in the raw table and in every table a materialized view fills, and still pushes
-- a block to the views that missed it. Non-replicated MergeTree deduplicates only within the last
-- `non_replicated_deduplication_window` blocks (0 = off by default): 1000 blocks covers far more
-- than the inserts between a failure and its retry (the receiver repairs a failed batch before
-- it inserts anything newer). ALTER … MODIFY SETTING is idempotent.

ALTER TABLE default.otel_logs MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_metrics_sum MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_metrics_gauge MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_metrics_histogram MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_metrics_exponential_histogram MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_metrics_summary MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_traces MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.otel_traces_trace_id_ts MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.telemetry_events MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.chapter_focus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.session_summaries MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.daily_metrics MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE default.events_15m MODIFY SETTING non_replicated_deduplication_window = 1000;
