/**
 * Decoded OTLP export requests → rows for the raw tables, column for column as the
 * OpenTelemetry Collector's ClickHouse exporter writes them (see telemetry-server/clickhouse/),
 * so the embedded receiver and the docker stack's collector fill the same tables the same way.
 * Each row is one JSONEachRow line.
 */
import {
  anyValueToString, attributesToMap, enumNumber, idToHex, isZeroNanos, nanosToDateTime64, setNanos, toCount, toInt32, toNumber, toNumbers, toText, toUInt32,
  type AnyValue, type Int64, type KeyValue,
} from './values';
import type { Signal } from './decode';

export type TableRows = Map<string, string[]>;

/** The signal whose exports carry rows for `table` (the tables this module fills), or undefined for any other table. */
export function signalOfTable(table: string): Signal | undefined {
  if (table === 'otel_logs') return 'logs';
  if (table === 'otel_traces') return 'traces';
  if (table.startsWith('otel_metrics_')) return 'metrics';
  return undefined;
}

interface Resource { attributes?: KeyValue[] | null }
interface Scope { name?: string | null; version?: string | null; attributes?: KeyValue[] | null; droppedAttributesCount?: number | null }

interface ResourceContext {
  ResourceAttributes: Record<string, string>;
  ResourceSchemaUrl: string;
  ServiceName: string;
}
interface ScopeContext {
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: Record<string, string>;
  ScopeSchemaUrl: string;
  ScopeDroppedAttrCount: number;
}

function resourceContext(resource: Resource | null | undefined, schemaUrl: string | null | undefined): ResourceContext {
  const attrs = attributesToMap(resource?.attributes);
  return { ResourceAttributes: attrs, ResourceSchemaUrl: toText(schemaUrl), ServiceName: toText(attrs['service.name']) };
}

function scopeContext(scope: Scope | null | undefined, schemaUrl: string | null | undefined): ScopeContext {
  return {
    ScopeName: toText(scope?.name),
    ScopeVersion: toText(scope?.version),
    ScopeAttributes: attributesToMap(scope?.attributes),
    ScopeSchemaUrl: toText(schemaUrl),
    ScopeDroppedAttrCount: toUInt32(scope?.droppedAttributesCount),
  };
}

function isDefault(value: unknown): boolean {
  if (value === '' || value === 0) return true;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const _ in value) return false;
    return true;
  }
  return false;
}

/**
 * Top-level columns holding their default ('' / 0 / empty map) are left out: smaller rows are
 * cheaper for the engine to parse. Values inside maps and arrays are kept exactly.
 */
/** Receive time, for records that carry no time at all (as a collector sets the observed time). */
function nowNanos(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

/**
 * JSON.stringify writes a lone UTF-16 surrogate (possible in OTLP/JSON text, never in valid UTF-8) as a `\udXXX`
 * escape, which the engine refuses for the whole insert; as String.prototype.toWellFormed does, it becomes U+FFFD.
 * Only lone surrogates are ever escaped that way, so every such escape (not itself after an escaped backslash) is one.
 */
function wellFormed(line: string): string {
  return line.includes('\\ud') ? line.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/gi, '$1\\ufffd') : line;
}

/**
 * A top-level column as row-object text, `"Name":value`, or '' when it holds its default (left out, as in `push`):
 * the very text JSON.stringify writes for that key of a row object (column names are plain ASCII).
 */
function field(name: string, value: unknown): string {
  return isDefault(value) ? '' : `"${name}":${JSON.stringify(value)}`;
}

/** Fields joined as the inside of a row object, the empty ones (defaults) left out. */
function joinFields(parts: readonly string[]): string {
  let s = '';
  for (const p of parts) if (p !== '') s = s === '' ? p : `${s},${p}`;
  return s;
}

function tableLines(out: TableRows, table: string): string[] {
  let list = out.get(table);
  if (!list) out.set(table, (list = []));
  return list;
}

function push(out: TableRows, table: string, row: Record<string, unknown>): void {
  let list = out.get(table);
  if (!list) out.set(table, (list = []));
  const slim: Record<string, unknown> = {};
  for (const k in row) if (!isDefault(row[k])) slim[k] = row[k];
  list.push(wellFormed(JSON.stringify(slim)));
}

// ---------------------------------------------------------------- logs

const SEVERITY_NAMES = [
  'SEVERITY_NUMBER_UNSPECIFIED', 'SEVERITY_NUMBER_TRACE', 'SEVERITY_NUMBER_TRACE2', 'SEVERITY_NUMBER_TRACE3', 'SEVERITY_NUMBER_TRACE4',
  'SEVERITY_NUMBER_DEBUG', 'SEVERITY_NUMBER_DEBUG2', 'SEVERITY_NUMBER_DEBUG3', 'SEVERITY_NUMBER_DEBUG4',
  'SEVERITY_NUMBER_INFO', 'SEVERITY_NUMBER_INFO2', 'SEVERITY_NUMBER_INFO3', 'SEVERITY_NUMBER_INFO4',
  'SEVERITY_NUMBER_WARN', 'SEVERITY_NUMBER_WARN2', 'SEVERITY_NUMBER_WARN3', 'SEVERITY_NUMBER_WARN4',
  'SEVERITY_NUMBER_ERROR', 'SEVERITY_NUMBER_ERROR2', 'SEVERITY_NUMBER_ERROR3', 'SEVERITY_NUMBER_ERROR4',
  'SEVERITY_NUMBER_FATAL', 'SEVERITY_NUMBER_FATAL2', 'SEVERITY_NUMBER_FATAL3', 'SEVERITY_NUMBER_FATAL4',
] as const;

interface LogRecord {
  timeUnixNano?: Int64;
  observedTimeUnixNano?: Int64;
  severityNumber?: unknown;
  severityText?: string | null;
  body?: AnyValue | null;
  attributes?: KeyValue[] | null;
  flags?: number | null;
  traceId?: Uint8Array | string | null;
  spanId?: Uint8Array | string | null;
  eventName?: string | null;
}
export interface LogsRequest {
  resourceLogs?: Array<{ resource?: Resource | null; schemaUrl?: string | null; scopeLogs?: Array<{ scope?: Scope | null; schemaUrl?: string | null; logRecords?: LogRecord[] | null }> | null }> | null;
}

/**
 * Log rows are written as text directly, field by field, byte for byte what `push` makes of the same row object
 * (test/unit/otlp-log-rows.test.ts): the resource's and scope's columns, the same for every record of a scope, are
 * serialised once per scope instead of once per record, and no row object is built (logs are nearly all the
 * traffic; this halved the receiver's CPU per record after the protobuf decode).
 */
export function logsToRows(req: LogsRequest, out: TableRows = new Map()): number {
  let n = 0;
  for (const rl of req.resourceLogs ?? []) {
    const res = resourceContext(rl.resource, rl.schemaUrl);
    const serviceName = field('ServiceName', res.ServiceName);
    for (const sl of rl.scopeLogs ?? []) {
      const sc = scopeContext(sl.scope, sl.schemaUrl);
      // Column order as in the row object: ServiceName, Body, then these.
      const tail = joinFields([
        field('ResourceSchemaUrl', res.ResourceSchemaUrl), field('ResourceAttributes', res.ResourceAttributes),
        field('ScopeSchemaUrl', sc.ScopeSchemaUrl), field('ScopeName', sc.ScopeName), field('ScopeVersion', sc.ScopeVersion),
        field('ScopeAttributes', sc.ScopeAttributes),
      ]);
      const records = sl.logRecords ?? [];
      if (records.length === 0) continue;
      const lines = tableLines(out, 'otel_logs');
      for (const r of records) {
        n++;
        const attrs = attributesToMap(r.attributes);
        // The exporter version we follow has no EventName column: keep OTLP's event_name as the attribute.
        if (r.eventName && attrs['event.name'] === undefined) attrs['event.name'] = toText(r.eventName);
        const time = nanosToDateTime64(setNanos(r.timeUnixNano) ?? setNanos(r.observedTimeUnixNano) ?? nowNanos());
        lines.push(wellFormed(`{${joinFields([
          `"Timestamp":"${time}"`,
          field('TraceId', idToHex(r.traceId)),
          field('SpanId', idToHex(r.spanId)),
          field('TraceFlags', toNumber(r.flags) & 0xff),
          field('SeverityText', toText(r.severityText)),
          field('SeverityNumber', enumNumber(r.severityNumber, SEVERITY_NAMES)),
          serviceName,
          field('Body', anyValueToString(r.body)),
          tail,
          field('LogAttributes', attrs),
        ])}}`));
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------- metrics

const TEMPORALITY_NAMES = ['AGGREGATION_TEMPORALITY_UNSPECIFIED', 'AGGREGATION_TEMPORALITY_DELTA', 'AGGREGATION_TEMPORALITY_CUMULATIVE'] as const;

interface Exemplar {
  filteredAttributes?: KeyValue[] | null;
  timeUnixNano?: Int64;
  asDouble?: number | null;
  asInt?: Int64;
  spanId?: Uint8Array | string | null;
  traceId?: Uint8Array | string | null;
}
interface PointBase {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Int64;
  timeUnixNano?: Int64;
  exemplars?: Exemplar[] | null;
  flags?: number | null;
}
interface NumberPoint extends PointBase { asDouble?: number | string | null; asInt?: Int64 }
interface HistogramPoint extends PointBase { count?: Int64; sum?: number | null; bucketCounts?: Int64[] | null; explicitBounds?: number[] | null; min?: number | null; max?: number | null }
interface Buckets { offset?: number | null; bucketCounts?: Int64[] | null }
interface ExpHistogramPoint extends PointBase { count?: Int64; sum?: number | null; scale?: number | null; zeroCount?: Int64; positive?: Buckets | null; negative?: Buckets | null; min?: number | null; max?: number | null }
interface SummaryPoint extends PointBase { count?: Int64; sum?: number | null; quantileValues?: Array<{ quantile?: number | null; value?: number | null }> | null }
interface Metric {
  name?: string | null;
  description?: string | null;
  unit?: string | null;
  sum?: { dataPoints?: NumberPoint[] | null; aggregationTemporality?: unknown; isMonotonic?: boolean | null } | null;
  gauge?: { dataPoints?: NumberPoint[] | null } | null;
  histogram?: { dataPoints?: HistogramPoint[] | null; aggregationTemporality?: unknown } | null;
  exponentialHistogram?: { dataPoints?: ExpHistogramPoint[] | null; aggregationTemporality?: unknown } | null;
  summary?: { dataPoints?: SummaryPoint[] | null } | null;
}
export interface MetricsRequest {
  resourceMetrics?: Array<{ resource?: Resource | null; schemaUrl?: string | null; scopeMetrics?: Array<{ scope?: Scope | null; schemaUrl?: string | null; metrics?: Metric[] | null }> | null }> | null;
}

function numberValue(p: NumberPoint | Exemplar): number {
  if (p.asDouble != null) return Number(p.asDouble);
  if (p.asInt != null) return toNumber(p.asInt);
  return 0;
}

/** Exemplars go into the exporter's Nested(...) columns: one array per field. */
function exemplarColumns(ex: Exemplar[] | null | undefined): Record<string, unknown> {
  if (!ex || ex.length === 0) return {};
  return {
    'Exemplars.FilteredAttributes': ex.map((e) => attributesToMap(e.filteredAttributes)),
    'Exemplars.TimeUnix': ex.map((e) => nanosToDateTime64(e.timeUnixNano)),
    'Exemplars.Value': ex.map(numberValue),
    'Exemplars.SpanId': ex.map((e) => idToHex(e.spanId)),
    'Exemplars.TraceId': ex.map((e) => idToHex(e.traceId)),
  };
}

function pointCommon(base: object, p: PointBase): Record<string, unknown> {
  return {
    ...base,
    Attributes: attributesToMap(p.attributes),
    StartTimeUnix: nanosToDateTime64(p.startTimeUnixNano),
    TimeUnix: nanosToDateTime64(isZeroNanos(p.timeUnixNano) ? nowNanos() : p.timeUnixNano),
    Flags: toUInt32(p.flags),
    ...exemplarColumns(p.exemplars),
  };
}

export function metricsToRows(req: MetricsRequest, out: TableRows = new Map()): number {
  let n = 0;
  for (const rm of req.resourceMetrics ?? []) {
    const res = resourceContext(rm.resource, rm.schemaUrl);
    for (const sm of rm.scopeMetrics ?? []) {
      const sc = scopeContext(sm.scope, sm.schemaUrl);
      for (const m of sm.metrics ?? []) {
        const base = { ...res, ...sc, MetricName: toText(m.name), MetricDescription: toText(m.description), MetricUnit: toText(m.unit) };
        if (m.sum) {
          const temporality = enumNumber(m.sum.aggregationTemporality, TEMPORALITY_NAMES);
          for (const p of m.sum.dataPoints ?? []) {
            n++;
            push(out, 'otel_metrics_sum', { ...pointCommon(base, p), Value: numberValue(p), AggregationTemporality: temporality, IsMonotonic: Boolean(m.sum.isMonotonic) });
          }
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints ?? []) {
            n++;
            push(out, 'otel_metrics_gauge', { ...pointCommon(base, p), Value: numberValue(p) });
          }
        } else if (m.histogram) {
          const temporality = enumNumber(m.histogram.aggregationTemporality, TEMPORALITY_NAMES);
          for (const p of m.histogram.dataPoints ?? []) {
            n++;
            push(out, 'otel_metrics_histogram', {
              ...pointCommon(base, p),
              Count: toCount(p.count), Sum: toNumber(p.sum),
              BucketCounts: toNumbers(p.bucketCounts, toCount), ExplicitBounds: toNumbers(p.explicitBounds),
              Min: toNumber(p.min), Max: toNumber(p.max), AggregationTemporality: temporality,
            });
          }
        } else if (m.exponentialHistogram) {
          const temporality = enumNumber(m.exponentialHistogram.aggregationTemporality, TEMPORALITY_NAMES);
          for (const p of m.exponentialHistogram.dataPoints ?? []) {
            n++;
            push(out, 'otel_metrics_exponential_histogram', {
              ...pointCommon(base, p),
              Count: toCount(p.count), Sum: toNumber(p.sum), Scale: toInt32(p.scale), ZeroCount: toCount(p.zeroCount),
              PositiveOffset: toInt32(p.positive?.offset), PositiveBucketCounts: toNumbers(p.positive?.bucketCounts, toCount),
              NegativeOffset: toInt32(p.negative?.offset), NegativeBucketCounts: toNumbers(p.negative?.bucketCounts, toCount),
              Min: toNumber(p.min), Max: toNumber(p.max), AggregationTemporality: temporality,
            });
          }
        } else if (m.summary) {
          for (const p of m.summary.dataPoints ?? []) {
            n++;
            const q = p.quantileValues ?? [];
            push(out, 'otel_metrics_summary', {
              ...pointCommon(base, p),
              Count: toCount(p.count), Sum: toNumber(p.sum),
              'ValueAtQuantiles.Quantile': q.map((v) => toNumber(v.quantile)),
              'ValueAtQuantiles.Value': q.map((v) => toNumber(v.value)),
            });
          }
        }
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------- traces

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
const SPAN_KIND_NAMES = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'] as const;
const STATUS_CODES = ['Unset', 'Ok', 'Error'] as const;
const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'] as const;

interface Span {
  traceId?: Uint8Array | string | null;
  spanId?: Uint8Array | string | null;
  parentSpanId?: Uint8Array | string | null;
  traceState?: string | null;
  name?: string | null;
  kind?: unknown;
  startTimeUnixNano?: Int64;
  endTimeUnixNano?: Int64;
  attributes?: KeyValue[] | null;
  events?: Array<{ timeUnixNano?: Int64; name?: string | null; attributes?: KeyValue[] | null }> | null;
  links?: Array<{ traceId?: Uint8Array | string | null; spanId?: Uint8Array | string | null; traceState?: string | null; attributes?: KeyValue[] | null }> | null;
  status?: { code?: unknown; message?: string | null } | null;
}
export interface TracesRequest {
  resourceSpans?: Array<{ resource?: Resource | null; schemaUrl?: string | null; scopeSpans?: Array<{ scope?: Scope | null; schemaUrl?: string | null; spans?: Span[] | null }> | null }> | null;
}

function durationNanos(start: Int64, end: Int64): number {
  const d = BigInt(String(end ?? 0) || '0') - BigInt(String(start ?? 0) || '0');
  return d > 0n ? Number(d) : 0;
}

export function tracesToRows(req: TracesRequest, out: TableRows = new Map()): number {
  let n = 0;
  for (const rs of req.resourceSpans ?? []) {
    const res = resourceContext(rs.resource, rs.schemaUrl);
    for (const ss of rs.scopeSpans ?? []) {
      const sc = scopeContext(ss.scope, ss.schemaUrl);
      for (const s of ss.spans ?? []) {
        n++;
        const events = s.events ?? [];
        const links = s.links ?? [];
        push(out, 'otel_traces', {
          Timestamp: nanosToDateTime64(s.startTimeUnixNano),
          TraceId: idToHex(s.traceId),
          SpanId: idToHex(s.spanId),
          ParentSpanId: idToHex(s.parentSpanId),
          TraceState: toText(s.traceState),
          SpanName: toText(s.name),
          SpanKind: SPAN_KINDS[enumNumber(s.kind, SPAN_KIND_NAMES)] ?? 'Unspecified',
          ServiceName: res.ServiceName,
          ResourceAttributes: res.ResourceAttributes,
          ScopeName: sc.ScopeName,
          ScopeVersion: sc.ScopeVersion,
          SpanAttributes: attributesToMap(s.attributes),
          Duration: durationNanos(s.startTimeUnixNano, s.endTimeUnixNano),
          StatusCode: STATUS_CODES[enumNumber(s.status?.code, STATUS_NAMES)] ?? 'Unset',
          StatusMessage: toText(s.status?.message),
          'Events.Timestamp': events.map((e) => nanosToDateTime64(e.timeUnixNano)),
          'Events.Name': events.map((e) => toText(e.name)),
          'Events.Attributes': events.map((e) => attributesToMap(e.attributes)),
          'Links.TraceId': links.map((l) => idToHex(l.traceId)),
          'Links.SpanId': links.map((l) => idToHex(l.spanId)),
          'Links.TraceState': links.map((l) => toText(l.traceState)),
          'Links.Attributes': links.map((l) => attributesToMap(l.attributes)),
        });
      }
    }
  }
  return n;
}
