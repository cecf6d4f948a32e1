/**
 * Builds OTLP export requests for tests, shaped like Claude Code's (see shared/reference), and
 * encodes them with the same generated protobuf root the server decodes with.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const v1 = root.opentelemetry.proto;

type Attr = { key: string; value: Record<string, unknown> };

export function attr(key: string, v: string | number | boolean): Attr {
  if (typeof v === 'string') return { key, value: { stringValue: v } };
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  return Number.isInteger(v) ? { key, value: { intValue: v } } : { key, value: { doubleValue: v } };
}

export function attrs(o: Record<string, string | number | boolean>): Attr[] {
  return Object.entries(o).map(([k, v]) => attr(k, v));
}

export function nowNanos(offsetMs = 0): string {
  return (BigInt(Date.now() + offsetMs) * 1_000_000n).toString();
}

export interface EventSpec {
  name: string;
  attributes?: Record<string, string | number | boolean>;
  timeNanos?: string;
}

/** An ExportLogsServiceRequest as a plain object (OTLP/JSON field names). */
export function logsRequest(events: EventSpec[], resource: Record<string, string> = { 'service.name': 'claude-code' }): object {
  return {
    resourceLogs: [{
      resource: { attributes: attrs(resource) },
      scopeLogs: [{
        scope: { name: 'com.anthropic.claude_code.events', version: '2.1.197' },
        logRecords: events.map((e) => ({
          timeUnixNano: e.timeNanos ?? nowNanos(),
          observedTimeUnixNano: e.timeNanos ?? nowNanos(),
          body: { stringValue: `claude_code.${e.name}` },
          attributes: attrs({ 'event.name': e.name, ...(e.attributes ?? {}) }),
        })),
      }],
    }],
  };
}

export function encodeLogs(req: object): Buffer {
  const T = v1.collector.logs.v1.ExportLogsServiceRequest;
  return Buffer.from(T.encode(T.fromObject(req)).finish());
}

export function encodeMetrics(req: object): Buffer {
  const T = v1.collector.metrics.v1.ExportMetricsServiceRequest;
  return Buffer.from(T.encode(T.fromObject(req)).finish());
}

export function encodeTraces(req: object): Buffer {
  const T = v1.collector.trace.v1.ExportTraceServiceRequest;
  return Buffer.from(T.encode(T.fromObject(req)).finish());
}

export async function postOtlp(baseUrl: string, signal: 'logs' | 'metrics' | 'traces', body: Buffer | string, contentType: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  // Node's fetch takes a Buffer; only the DOM typings disagree.
  const payload = body as unknown as BodyInit;
  const res = await fetch(`${baseUrl}/v1/${signal}`, { method: 'POST', body: payload, headers: { 'content-type': contentType, ...headers } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** Polls `fn` until it returns true, failing with `describe()` once the deadline passes. */
export async function eventually(fn: () => Promise<boolean>, describe: () => Promise<string> | string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`condition not met before the deadline: ${await describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
