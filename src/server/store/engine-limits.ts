/**
 * The engine's resource bounds, chosen so no query can take the server (and collection) down:
 * - the whole engine stays under a quarter of the machine's memory (at least 1 GiB, at most 8 GiB):
 *   the kernel's OOM killer never has to choose, and VS Code keeps its share. It is a ceiling for a
 *   runaway query, not the working size: what the server holds idle and under ingest is set by the
 *   caches below and by giving freed memory back (idle-purge.ts; BENCHMARKS.md, "Memory");
 * - one query may use half of that, so a runaway query fails with code 241 while another still runs;
 * - one query runs at most 10 minutes (code 159): long enough for a full-history export, short enough
 *   that a forgotten query does not hold a session for ever;
 * - four reader sessions and two writer sessions run at once on top of the receiver's own session
 *   (chDB runs one statement per session): more would only share the same cores.
 * The writer identity may raise the per-query values with URL settings; readers cannot (readonly).
 *
 * The engine's caches, sized for this store rather than for a database server (ClickHouse's defaults
 * allow 5 GiB each for marks, index marks and primary indexes, 128 MiB for compiled expressions and
 * 100 MiB for the query-condition cache; a cache fills up to its bound and stays there):
 * - marks (32 MiB): 8 bytes × 2 per column per 8192-row granule; 10M events in every table and view
 *   take a few MiB, so every mark of a large history still fits and no read has to load one twice;
 * - primary indexes (32 MiB): one key per granule, smaller still;
 * - skip-index marks (8 MiB): the schema has few skip indexes;
 * - uncompressed blocks (0, the default): the sidebar's queries read little; the page cache holds the
 *   compressed parts, which are outside this process;
 * - query-condition cache (16 MiB) and compiled expressions (16 MiB): small helpers for repeated
 *   panels, not worth a sixth of the idle footprint;
 * - merges and mutations (soft limit: half the engine's bound): a background merge never competes
 *   with the query that the per-query limit leaves room for.
 * The query result cache stays off (its default size is 0 in chDB): the views poll a watermark instead.
 *
 * The working memory of writing parts (every insert writes one part per table and materialized view,
 * and background merges write more), measured under 4 senders of 512-record exports (BENCHMARKS.md,
 * "Memory"): before these, the engine's tracked memory peaked at ~180–230 MiB, ~130–150 of it merges;
 * with them at ~105–135 MiB, merges ~45–80, at the same CPU per record within the noise:
 * - write buffers of 64 KiB per column stream (`max_compress_block_size`, a MergeTree setting, so
 *   inserts and merges both take it): a part being written holds a compression buffer and a file
 *   buffer of this size for every column stream (a Map column is three), 1 MiB each by default, so a
 *   merge into a wide otel_logs part held ~140 MiB of buffers for <1 MiB of compressed data. 64 KiB
 *   is also `min_compress_block_size` (a block is cut at the first mark past it) and LZ4's window, so
 *   the blocks written and the compression ratio barely change;
 * - two merges at once (`background_merges_mutations_concurrency_ratio` 1 on the engine's two merge
 *   threads; the default ratio 2 queues four): each merge holds a block per source part, and two
 *   threads cannot run four merges faster than two. Parts are still merged as fast as before;
 * - at most 16 idle threads kept in the engine's global thread pool (`max_thread_pool_free_size`, default
 *   1000): seen in some runs of that load, the pool grew to ~130 threads and kept them all for good, each
 *   with its stack and its allocator cache (the engine's active memory stayed ~25 MiB higher when idle).
 *   Idle, the engine runs 8 pool threads; one above 16 ends once it finds nothing to do.
 */
import { totalmem } from 'node:os';

export interface EngineLimits {
  maxServerMemoryBytes: number;
  maxQueryMemoryBytes: number;
  maxExecutionSeconds: number;
  readerSessions: number;
  writerSessions: number;
  /** Merges and mutations the engine runs at once per merge thread (its two threads; see above). */
  mergesPerThread: number;
  /** Idle threads the engine's global thread pool keeps (see above). */
  idlePoolThreads: number;
  /** MergeTree settings for every table (the engine's config file, `<merge_tree>`): see above. */
  mergeTree: Record<'max_compress_block_size', number>;
  /** Server-wide cache bounds in bytes (the engine's setting names). */
  caches: Record<'mark_cache_size' | 'primary_index_cache_size' | 'index_mark_cache_size' | 'uncompressed_cache_size' | 'query_condition_cache_size' | 'compiled_expression_cache_size', number>;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export function engineLimits(machineBytes: number = totalmem()): EngineLimits {
  const server = Math.min(8 * GiB, Math.max(1 * GiB, Math.floor(machineBytes / 4)));
  return {
    maxServerMemoryBytes: server,
    maxQueryMemoryBytes: Math.floor(server / 2),
    maxExecutionSeconds: 600,
    readerSessions: 4,
    writerSessions: 2,
    mergesPerThread: 1,
    idlePoolThreads: 16,
    mergeTree: { max_compress_block_size: 64 * 1024 },
    caches: {
      mark_cache_size: 32 * MiB,
      primary_index_cache_size: 32 * MiB,
      index_mark_cache_size: 8 * MiB,
      uncompressed_cache_size: 0,
      query_condition_cache_size: 16 * MiB,
      compiled_expression_cache_size: 16 * MiB,
    },
  };
}

/**
 * The engine's server settings for these limits: they take effect with the first connection to the engine.
 * `configFile`: where engineConfigXml's text was written (MergeTree settings have no command-line form).
 */
export function serverArgs(limits: EngineLimits, configFile?: string): string[] {
  return [
    ...(configFile ? [`--config-file=${configFile}`] : []),
    `--max_server_memory_usage=${limits.maxServerMemoryBytes}`,
    `--background_merges_mutations_concurrency_ratio=${limits.mergesPerThread}`,
    `--max_thread_pool_free_size=${limits.idlePoolThreads}`,
    `--merges_mutations_memory_usage_soft_limit=${Math.floor(limits.maxServerMemoryBytes / 2)}`,
    ...Object.entries(limits.caches).map(([k, v]) => `--${k}=${v}`),
  ];
}

/** The engine's config file for these limits: the settings that have no command-line form. */
export function engineConfigXml(limits: EngineLimits): string {
  const mergeTree = Object.entries(limits.mergeTree).map(([k, v]) => `    <${k}>${v}</${k}>`);
  return ['<clickhouse>', '  <merge_tree>', ...mergeTree, '  </merge_tree>', '</clickhouse>', ''].join('\n');
}
