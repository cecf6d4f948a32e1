/**
 * OTLP protobuf messages, defined here for protobufjs from the OTLP specification's field numbers
 * (opentelemetry-proto v1: collector/{logs,metrics,trace}/v1, common/v1, resource/v1, logs/v1, metrics/v1,
 * trace/v1). Why here and not from a package: no maintained npm package ships OTLP *request decoders* in its
 * public API (@opentelemetry/otlp-transformer only encodes requests, and dropped its generated root after
 * 0.214), and a deep import into another project's build folder breaks on any release. OTLP's wire format is
 * stable (field numbers never change; new fields only get new numbers), so a table of numbers written once is
 * the smallest dependable source: protobufjs (a well-kept library) does all the wire decoding, we never
 * hand-parse bytes. Fields newer than what we store are listed anyway, so a decoder stays total.
 * test/unit/otlp-proto.test.ts checks every message against an independent implementation.
 */
import * as protobuf from 'protobufjs/light';
import Long from 'long';

// int64/fixed64 (nanosecond timestamps) must decode losslessly. protobufjs finds `long` by a
// dynamic require that a bundle cannot see, so hand it over explicitly.
protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();

type FieldDef = { id: number; type: string; rule?: 'repeated' };
type MessageDef = { fields: Record<string, FieldDef>; oneofs?: Record<string, { oneof: string[] }>; nested?: Record<string, MessageDef | EnumDef> };
type EnumDef = { values: Record<string, number> };

const one = (id: number, type: string): FieldDef => ({ id, type });
const many = (id: number, type: string): FieldDef => ({ id, type, rule: 'repeated' });
/** Proto3 `optional` fields: a synthetic one-member oneof, as protoc describes them (presence is tracked). */
const optionals = (...names: string[]) => Object.fromEntries(names.map((n) => [`_${n}`, { oneof: [n] }]));

const COMMON = 'opentelemetry.proto.common.v1';
const KV = `${COMMON}.KeyValue`;
const RESOURCE = 'opentelemetry.proto.resource.v1.Resource';
const SCOPE = `${COMMON}.InstrumentationScope`;

const common: Record<string, MessageDef> = {
  AnyValue: {
    oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
    fields: {
      stringValue: one(1, 'string'), boolValue: one(2, 'bool'), intValue: one(3, 'int64'), doubleValue: one(4, 'double'),
      arrayValue: one(5, 'ArrayValue'), kvlistValue: one(6, 'KeyValueList'), bytesValue: one(7, 'bytes'),
    },
  },
  ArrayValue: { fields: { values: many(1, 'AnyValue') } },
  KeyValueList: { fields: { values: many(1, 'KeyValue') } },
  KeyValue: { fields: { key: one(1, 'string'), value: one(2, 'AnyValue') } },
  InstrumentationScope: { fields: { name: one(1, 'string'), version: one(2, 'string'), attributes: many(3, 'KeyValue'), droppedAttributesCount: one(4, 'uint32') } },
  EntityRef: { fields: { schemaUrl: one(1, 'string'), type: one(2, 'string'), idKeys: many(3, 'string'), descriptionKeys: many(4, 'string') } },
};

const resource: Record<string, MessageDef> = {
  Resource: { fields: { attributes: many(1, KV), droppedAttributesCount: one(2, 'uint32'), entityRefs: many(3, `${COMMON}.EntityRef`) } },
};

const logs: Record<string, MessageDef | EnumDef> = {
  ResourceLogs: { fields: { resource: one(1, RESOURCE), scopeLogs: many(2, 'ScopeLogs'), schemaUrl: one(3, 'string') } },
  ScopeLogs: { fields: { scope: one(1, SCOPE), logRecords: many(2, 'LogRecord'), schemaUrl: one(3, 'string') } },
  SeverityNumber: { values: Object.fromEntries(['UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4', 'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'].map((n, i) => [`SEVERITY_NUMBER_${n}`, i])) },
  LogRecord: {
    fields: {
      timeUnixNano: one(1, 'fixed64'), observedTimeUnixNano: one(11, 'fixed64'), severityNumber: one(2, 'SeverityNumber'),
      severityText: one(3, 'string'), body: one(5, `${COMMON}.AnyValue`), attributes: many(6, KV), droppedAttributesCount: one(7, 'uint32'),
      flags: one(8, 'fixed32'), traceId: one(9, 'bytes'), spanId: one(10, 'bytes'), eventName: one(12, 'string'),
    },
  },
};

const temporality = 'AggregationTemporality';
const metrics: Record<string, MessageDef | EnumDef> = {
  ResourceMetrics: { fields: { resource: one(1, RESOURCE), scopeMetrics: many(2, 'ScopeMetrics'), schemaUrl: one(3, 'string') } },
  ScopeMetrics: { fields: { scope: one(1, SCOPE), metrics: many(2, 'Metric'), schemaUrl: one(3, 'string') } },
  Metric: {
    oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
    fields: {
      name: one(1, 'string'), description: one(2, 'string'), unit: one(3, 'string'),
      gauge: one(5, 'Gauge'), sum: one(7, 'Sum'), histogram: one(9, 'Histogram'), exponentialHistogram: one(10, 'ExponentialHistogram'),
      summary: one(11, 'Summary'), metadata: many(12, KV),
    },
  },
  Gauge: { fields: { dataPoints: many(1, 'NumberDataPoint') } },
  Sum: { fields: { dataPoints: many(1, 'NumberDataPoint'), aggregationTemporality: one(2, temporality), isMonotonic: one(3, 'bool') } },
  Histogram: { fields: { dataPoints: many(1, 'HistogramDataPoint'), aggregationTemporality: one(2, temporality) } },
  ExponentialHistogram: { fields: { dataPoints: many(1, 'ExponentialHistogramDataPoint'), aggregationTemporality: one(2, temporality) } },
  Summary: { fields: { dataPoints: many(1, 'SummaryDataPoint') } },
  AggregationTemporality: { values: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 } },
  DataPointFlags: { values: { DATA_POINT_FLAGS_DO_NOT_USE: 0, DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK: 1 } },
  NumberDataPoint: {
    oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
    fields: {
      attributes: many(7, KV), startTimeUnixNano: one(2, 'fixed64'), timeUnixNano: one(3, 'fixed64'),
      asDouble: one(4, 'double'), asInt: one(6, 'sfixed64'), exemplars: many(5, 'Exemplar'), flags: one(8, 'uint32'),
    },
  },
  HistogramDataPoint: {
    oneofs: optionals('sum', 'min', 'max'),
    fields: {
      attributes: many(9, KV), startTimeUnixNano: one(2, 'fixed64'), timeUnixNano: one(3, 'fixed64'), count: one(4, 'fixed64'),
      sum: one(5, 'double'), bucketCounts: many(6, 'fixed64'), explicitBounds: many(7, 'double'), exemplars: many(8, 'Exemplar'),
      flags: one(10, 'uint32'), min: one(11, 'double'), max: one(12, 'double'),
    },
  },
  ExponentialHistogramDataPoint: {
    oneofs: optionals('sum', 'min', 'max'),
    fields: {
      attributes: many(1, KV), startTimeUnixNano: one(2, 'fixed64'), timeUnixNano: one(3, 'fixed64'), count: one(4, 'fixed64'),
      sum: one(5, 'double'), scale: one(6, 'sint32'), zeroCount: one(7, 'fixed64'), positive: one(8, 'Buckets'), negative: one(9, 'Buckets'),
      flags: one(10, 'uint32'), exemplars: many(11, 'Exemplar'), min: one(12, 'double'), max: one(13, 'double'), zeroThreshold: one(14, 'double'),
    },
    nested: { Buckets: { fields: { offset: one(1, 'sint32'), bucketCounts: many(2, 'uint64') } } },
  },
  SummaryDataPoint: {
    fields: {
      attributes: many(7, KV), startTimeUnixNano: one(2, 'fixed64'), timeUnixNano: one(3, 'fixed64'), count: one(4, 'fixed64'),
      sum: one(5, 'double'), quantileValues: many(6, 'ValueAtQuantile'), flags: one(8, 'uint32'),
    },
    nested: { ValueAtQuantile: { fields: { quantile: one(1, 'double'), value: one(2, 'double') } } },
  },
  Exemplar: {
    oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
    fields: {
      filteredAttributes: many(7, KV), timeUnixNano: one(2, 'fixed64'), asDouble: one(3, 'double'), asInt: one(6, 'sfixed64'),
      spanId: one(4, 'bytes'), traceId: one(5, 'bytes'),
    },
  },
};

const trace: Record<string, MessageDef | EnumDef> = {
  ResourceSpans: { fields: { resource: one(1, RESOURCE), scopeSpans: many(2, 'ScopeSpans'), schemaUrl: one(3, 'string') } },
  ScopeSpans: { fields: { scope: one(1, SCOPE), spans: many(2, 'Span'), schemaUrl: one(3, 'string') } },
  Span: {
    fields: {
      traceId: one(1, 'bytes'), spanId: one(2, 'bytes'), traceState: one(3, 'string'), parentSpanId: one(4, 'bytes'), flags: one(16, 'fixed32'),
      name: one(5, 'string'), kind: one(6, 'SpanKind'), startTimeUnixNano: one(7, 'fixed64'), endTimeUnixNano: one(8, 'fixed64'),
      attributes: many(9, KV), droppedAttributesCount: one(10, 'uint32'), events: many(11, 'Event'), droppedEventsCount: one(12, 'uint32'),
      links: many(13, 'Link'), droppedLinksCount: one(14, 'uint32'), status: one(15, 'Status'),
    },
    nested: {
      SpanKind: { values: { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 } },
      Event: { fields: { timeUnixNano: one(1, 'fixed64'), name: one(2, 'string'), attributes: many(3, KV), droppedAttributesCount: one(4, 'uint32') } },
      Link: {
        fields: {
          traceId: one(1, 'bytes'), spanId: one(2, 'bytes'), traceState: one(3, 'string'), attributes: many(4, KV),
          droppedAttributesCount: one(5, 'uint32'), flags: one(6, 'fixed32'),
        },
      },
    },
  },
  Status: {
    fields: { message: one(2, 'string'), code: one(3, 'StatusCode') },
    nested: { StatusCode: { values: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 } } },
  },
};

const exportRequest = (field: string, type: string): MessageDef => ({ fields: { [field]: many(1, type) } });

const ns = (nested: Record<string, unknown>) => ({ nested });
export const otlpRoot = protobuf.Root.fromJSON(ns({
  opentelemetry: ns({
    proto: ns({
      common: ns({ v1: ns(common) }),
      resource: ns({ v1: ns(resource) }),
      logs: ns({ v1: ns(logs) }),
      metrics: ns({ v1: ns(metrics) }),
      trace: ns({ v1: ns(trace) }),
      collector: ns({
        logs: ns({ v1: ns({ ExportLogsServiceRequest: exportRequest('resourceLogs', 'opentelemetry.proto.logs.v1.ResourceLogs') }) }),
        metrics: ns({ v1: ns({ ExportMetricsServiceRequest: exportRequest('resourceMetrics', 'opentelemetry.proto.metrics.v1.ResourceMetrics') }) }),
        trace: ns({ v1: ns({ ExportTraceServiceRequest: exportRequest('resourceSpans', 'opentelemetry.proto.trace.v1.ResourceSpans') }) }),
      }),
    }),
  }),
}) as protobuf.INamespace);
otlpRoot.resolveAll();

// rows.ts reads protobuf and JSON requests alike, and in JSON an absent field is absent: so a decoded message
// reports a field that was not on the wire as null, not as proto3's zero default. (That is what tells an
// integer data point from a double one, and a missing timestamp from the epoch.)
for (const type of allTypes(otlpRoot)) {
  for (const field of type.fieldsArray) {
    if (!field.repeated && !field.map) (type.ctor.prototype as Record<string, unknown>)[field.name] = null;
  }
}

function allTypes(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.flatMap((o) => [...(o instanceof protobuf.Type ? [o] : []), ...(o instanceof protobuf.Namespace || o instanceof protobuf.Type ? allTypes(o) : [])]);
}

interface Decoder {
  decode(buf: Uint8Array): unknown;
}

export const ExportLogsServiceRequest: Decoder = otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const ExportMetricsServiceRequest: Decoder = otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
export const ExportTraceServiceRequest: Decoder = otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

/** google.rpc.Status {code=1, message=2}: the body of an OTLP/HTTP protobuf error reply. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).finish();
}
