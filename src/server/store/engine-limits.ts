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
 */
import { totalmem } from 'node:os';

export interface EngineLimits {
  maxServerMemoryBytes: number;
  maxQueryMemoryBytes: number;
  maxExecutionSeconds: number;
  readerSessions: number;
  writerSessions: number;
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

/** The engine's server settings for these limits: they take effect with the first connection to the engine. */
export function serverArgs(limits: EngineLimits): string[] {
  return [
    `--max_server_memory_usage=${limits.maxServerMemoryBytes}`,
    `--merges_mutations_memory_usage_soft_limit=${Math.floor(limits.maxServerMemoryBytes / 2)}`,
    ...Object.entries(limits.caches).map(([k, v]) => `--${k}=${v}`),
  ];
}
