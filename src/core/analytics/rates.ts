/** Ratios shown beside the totals; 0 when there is nothing to divide by (never NaN). */

/** Share of prompt tokens served from the cache: read / (input + read + creation). */
export function cacheHitRate(t: { input_tokens: number; cache_read_tokens: number; cache_creation_tokens: number }): number {
  const all = t.input_tokens + t.cache_read_tokens + t.cache_creation_tokens;
  return all > 0 ? t.cache_read_tokens / all : 0;
}

/** Share of API calls that failed: errors / (successful requests + errors). */
export function errorRate(t: { requests: number; errors: number }): number {
  const all = t.requests + t.errors;
  return all > 0 ? t.errors / all : 0;
}
