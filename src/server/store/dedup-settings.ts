/**
 * The insert settings that make a retried insert store each block once, in the table and in the
 * tables its materialized views fill (the tables' `non_replicated_deduplication_window` comes
 * from 0006_insert_deduplication.sql; a replicated ClickHouse deduplicates on its own).
 */
export function dedupSettings(token: string): Record<string, string | number> {
  return { insert_deduplicate: 1, insert_deduplication_token: token, deduplicate_blocks_in_dependent_materialized_views: 1 };
}
