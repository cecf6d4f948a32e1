/**
 * A known fortnight of one author's telemetry (ISO weeks 2026-W47 and 2026-W48), sent through the
 * server's OTLP receiver shaped like Claude Code's export: events (requests on several models and
 * chapters, a 429 and a 529, prompts, tool results), chapter_focus records, metrics of every kind
 * and spans. Values differ per author (`seed`), so sums tell two authors apart.
 */
import { attrs, encodeLogs, encodeMetrics, encodeTraces, eventually, logsRequest, postOtlp, type EventSpec } from './otlp';
import type { RunningServer } from './server';

const W47 = Date.UTC(2026, 10, 16); // Monday 16 Nov 2026
const DAY = 86_400_000;
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];
const CHAPTERS = ['01-intro', '02-setup', '03-deep-dive'];

export interface Fed {
  events: number;
  focus: number;
}

function ns(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString();
}

export async function feedAuthor(srv: RunningServer, user: string, seed: number): Promise<Fed> {
  const events: EventSpec[] = [];
  const focus: EventSpec[] = [];
  let n = 0;
  for (let day = 0; day < 14; day++) {
    if ((day + seed) % 5 === 4) continue; // some idle days
    const session = `${user}-s${Math.floor(day / 2)}`;
    for (let k = 0; k < 3 + ((day * seed) % 4); k++) {
      const t = W47 + day * DAY + (9 + k) * 3_600_000 + seed * 60_000;
      const chapter = CHAPTERS[(day + k) % CHAPTERS.length]!;
      if (k === 0) focus.push({ name: 'chapter_focus', timeNanos: ns(t - 60_000), attributes: { chapter, user_id: user, 'event.timestamp': new Date(t - 60_000).toISOString() } });
      const base = { 'session.id': session, 'event.timestamp': new Date(t).toISOString(), 'prompt.id': `p${n}`, 'event.sequence': n, chapter };
      events.push({ name: 'user_prompt', timeNanos: ns(t), attributes: { ...base, prompt_length: 40 + n } });
      events.push({ name: 'api_request', timeNanos: ns(t + 1000), attributes: {
        ...base, 'event.timestamp': new Date(t + 1000).toISOString(), model: MODELS[(n + seed) % MODELS.length]!,
        cost_usd: Math.round((0.01 + ((n * 7 + seed) % 13) / 100) * 10000) / 10000,
        input_tokens: 100 + n * 3, output_tokens: 50 + seed * 5 + n, cache_read_tokens: 1000 + n * 11, cache_creation_tokens: 20 * (n % 3),
        duration_ms: 800 + n } });
      events.push({ name: 'tool_result', timeNanos: ns(t + 2000), attributes: { ...base, 'event.timestamp': new Date(t + 2000).toISOString(), tool_name: 'Edit', success: n % 6 !== 0 ? 'true' : 'false', error_type: n % 6 === 0 ? 'file_not_found' : '' } });
      if (n % 5 === 2) {
        const status = n % 10 === 2 ? 429 : 529;
        events.push({ name: 'api_error', timeNanos: ns(t + 3000), attributes: { ...base, 'event.timestamp': new Date(t + 3000).toISOString(), model: MODELS[0]!, status_code: status, error: status === 429 ? 'rate limited' : 'Overloaded', attempt: 1, duration_ms: 300 } });
      }
      n++;
    }
  }
  const resource = { 'service.name': 'claude-code', user_id: user, 'service.version': '2.1.197' };
  const r1 = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest(events, resource)), 'application/x-protobuf');
  const r2 = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest(focus, { 'service.name': 'chapter-telemetry', user_id: user })), 'application/x-protobuf');
  if (r1.status !== 200 || r2.status !== 200) throw new Error(`OTLP logs refused: ${r1.status} ${r2.status}`);

  const t = W47 + 3 * DAY + seed * 1000;
  const point = { startTimeUnixNano: ns(t - 10_000), timeUnixNano: ns(t), attributes: attrs({ 'session.id': `${user}-s1`, type: 'input' }) };
  const metrics = { resourceMetrics: [{ resource: { attributes: attrs(resource) }, scopeMetrics: [{ scope: { name: 'com.anthropic.claude_code', version: '2.1.197' }, metrics: [
    { name: 'claude_code.token.usage', unit: 'tokens', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ ...point, asDouble: 25 + seed }, { ...point, timeUnixNano: ns(t + DAY), asDouble: 7 * seed }] } },
    { name: 'claude_code.cost.usage', unit: 'USD', gauge: { dataPoints: [{ ...point, asDouble: 0.5 * seed }] } },
    { name: 'test.histogram', histogram: { aggregationTemporality: 2, dataPoints: [{ ...point, count: 3, sum: 6 + seed, bucketCounts: [1, 2, 0], explicitBounds: [1, 5], min: 1, max: 3 }] } },
    { name: 'test.exphistogram', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ ...point, count: 4, sum: 10 + seed, scale: 2, zeroCount: 1, positive: { offset: 3, bucketCounts: [1, 2] }, negative: { offset: -1, bucketCounts: [0] }, min: 0, max: 5 }] } },
    { name: 'test.summary', summary: { dataPoints: [{ ...point, count: 5, sum: 15 + seed, quantileValues: [{ quantile: 0.5, value: 3 }, { quantile: 0.99, value: 5 }] }] } },
  ] }] }] };
  const r3 = await postOtlp(srv.otlpHttpUrl, 'metrics', encodeMetrics(metrics), 'application/x-protobuf');
  const traceId = Buffer.alloc(16, seed).toString('base64');
  const spans = { resourceSpans: [{ resource: { attributes: attrs(resource) }, scopeSpans: [{ scope: { name: 'com.anthropic.claude_code.tracing', version: '1.0.0' }, spans: [0, 1, 2].map((i) => ({
    traceId, spanId: Buffer.alloc(8, seed * 10 + i + 1).toString('base64'), name: 'claude_code.llm_request', kind: 3,
    startTimeUnixNano: ns(t + i * 1000), endTimeUnixNano: ns(t + i * 1000 + 100 * (i + seed)),
    attributes: attrs({ model: MODELS[i]!, input_tokens: 25 + i }), status: { code: 1 },
  })) }] }] };
  const r4 = await postOtlp(srv.otlpHttpUrl, 'traces', encodeTraces(spans), 'application/x-protobuf');
  if (r3.status !== 200 || r4.status !== 200) throw new Error(`OTLP metrics/traces refused: ${r3.status} ${r4.status}`);
  await eventually(async () => Number(await srv.sql(`SELECT count() FROM telemetry_events WHERE user_id = {u:String}`, { u: user })) === events.length,
    () => `events of ${user} not all stored`);
  return { events: events.length, focus: focus.length };
}
