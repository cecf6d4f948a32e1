// The OTLP message definitions the server decodes with (src/server/otlp/proto.ts, written from the
// specification's field numbers) against an independent implementation: the protobufjs code the
// OpenTelemetry JS project generated from the official .proto files (@opentelemetry/otlp-transformer
// 0.214.0, a dev dependency kept only as this reference). Requests with every field set cross in both
// directions and must come out the same, and the rows the server stores must not depend on which
// decoder read the bytes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeExport, type Signal } from '../../src/server/otlp/decode';
import { otlpRoot } from '../../src/server/otlp/proto';
import { logsToRows, metricsToRows, tracesToRows, type TableRows } from '../../src/server/otlp/rows';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('@opentelemetry/otlp-transformer/build/src/generated/root').opentelemetry.proto;

interface StaticType {
  fromObject(o: object): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: object): Record<string, unknown>;
}

const asObject = { longs: String, bytes: String, enums: Number, defaults: false };
const t0 = '1764480000123456789';
const t1 = '1764480001123456789';
const id16 = Buffer.from('0123456789abcdef0123456789abcdef', 'hex').toString('base64');
const id8 = Buffer.from('0123456789abcdef', 'hex').toString('base64');
const kv = (key: string, value: object) => ({ key, value });
const attributes = [
  kv('s', { stringValue: 'text' }), kv('b', { boolValue: true }), kv('i', { intValue: '-9007199254740993' }), kv('d', { doubleValue: 2.5 }),
  kv('a', { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '7' }] } }), kv('m', { kvlistValue: { values: [kv('k', { boolValue: false })] } }),
  kv('y', { bytesValue: id8 }),
];
const resource = { attributes: [kv('service.name', { stringValue: 'claude-code' })], droppedAttributesCount: 1 };
const scope = { name: 'scope', version: '1.2.3', attributes, droppedAttributesCount: 2 };

const requests: Record<Signal, object> = {
  logs: {
    resourceLogs: [{
      resource, schemaUrl: 'https://schema/1',
      scopeLogs: [{
        scope, schemaUrl: 'https://schema/2',
        logRecords: [{
          timeUnixNano: t0, observedTimeUnixNano: t1, severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'claude_code.api_error' },
          attributes, droppedAttributesCount: 3, flags: 1, traceId: id16, spanId: id8, eventName: 'api_error',
        }],
      }],
    }],
  },
  metrics: {
    resourceMetrics: [{
      resource, schemaUrl: 'https://schema/1',
      scopeMetrics: [{
        scope, schemaUrl: 'https://schema/2',
        metrics: [
          { name: 'g', description: 'gauge', unit: '1', gauge: { dataPoints: [{ attributes, startTimeUnixNano: t0, timeUnixNano: t1, asDouble: 0.5, flags: 1 }] } },
          {
            name: 'claude_code.token.usage', unit: 'tokens',
            sum: {
              aggregationTemporality: 1, isMonotonic: true,
              dataPoints: [{
                attributes, startTimeUnixNano: t0, timeUnixNano: t1, asInt: '12345678901',
                exemplars: [{ filteredAttributes: attributes, timeUnixNano: t1, asInt: '3', spanId: id8, traceId: id16 }],
              }],
            },
          },
          {
            name: 'h', histogram: {
              aggregationTemporality: 2,
              dataPoints: [{
                attributes, startTimeUnixNano: t0, timeUnixNano: t1, count: '6', sum: 10.5, bucketCounts: ['1', '2', '3'], explicitBounds: [1, 5],
                exemplars: [{ timeUnixNano: t1, asDouble: 1.5 }], flags: 0, min: 0.25, max: 9,
              }],
            },
          },
          {
            name: 'e', exponentialHistogram: {
              aggregationTemporality: 1,
              dataPoints: [{
                attributes, startTimeUnixNano: t0, timeUnixNano: t1, count: '5', sum: 7, scale: -2, zeroCount: '1',
                positive: { offset: -3, bucketCounts: ['1', '2'] }, negative: { offset: 4, bucketCounts: ['1'] }, flags: 1, min: -1, max: 4, zeroThreshold: 0.001,
              }],
            },
          },
          { name: 's', summary: { dataPoints: [{ attributes, startTimeUnixNano: t0, timeUnixNano: t1, count: '4', sum: 8, quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 1, value: 3 }], flags: 1 }] } },
        ],
      }],
    }],
  },
  traces: {
    resourceSpans: [{
      resource, schemaUrl: 'https://schema/1',
      scopeSpans: [{
        scope, schemaUrl: 'https://schema/2',
        spans: [{
          traceId: id16, spanId: id8, traceState: 'a=b', parentSpanId: id8, flags: 257, name: 'claude_code.llm_request', kind: 3,
          startTimeUnixNano: t0, endTimeUnixNano: t1, attributes, droppedAttributesCount: 1,
          events: [{ timeUnixNano: t1, name: 'ev', attributes, droppedAttributesCount: 2 }], droppedEventsCount: 3,
          links: [{ traceId: id16, spanId: id8, traceState: 'c=d', attributes, droppedAttributesCount: 4, flags: 1 }], droppedLinksCount: 5,
          status: { message: 'failed', code: 2 },
        }],
      }],
    }],
  },
};

const typeName = { logs: 'logs.v1.ExportLogsServiceRequest', metrics: 'metrics.v1.ExportMetricsServiceRequest', traces: 'trace.v1.ExportTraceServiceRequest' } as const;
const refType = (s: Signal): StaticType => typeName[s].split('.').reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, reference.collector) as unknown as StaticType;
const ourType = (s: Signal) => otlpRoot.lookupType(`opentelemetry.proto.collector.${typeName[s]}`);
const toRows = (s: Signal, req: unknown): TableRows => {
  const out: TableRows = new Map();
  if (s === 'logs') logsToRows(req as never, out);
  else if (s === 'metrics') metricsToRows(req as never, out);
  else tracesToRows(req as never, out);
  return out;
};

describe('OTLP definitions match the reference implementation, field for field', () => {
  for (const signal of ['logs', 'metrics', 'traces'] as const) {
    test(`${signal}: reference-encoded bytes decode to the same message with ours, and back`, () => {
      const ref = refType(signal);
      const ours = ourType(signal);
      const refBytes = ref.encode(ref.fromObject(requests[signal])).finish();
      const expected = ref.toObject(ref.decode(refBytes), asObject);
      // The request really uses every field we listed (a field the reference drops would hide a wrong number).
      assert.deepEqual(JSON.parse(JSON.stringify(expected)), JSON.parse(JSON.stringify(requests[signal])));
      assert.deepEqual(ours.toObject(ours.decode(refBytes), asObject), expected);
      const ourBytes = ours.encode(ours.fromObject(requests[signal])).finish();
      assert.deepEqual(ref.toObject(ref.decode(ourBytes), asObject), expected);
    });

    test(`${signal}: the stored rows do not depend on which decoder read the bytes`, () => {
      const ref = refType(signal);
      const bytes = ref.encode(ref.fromObject(requests[signal])).finish();
      const rows = decodeExport(signal, bytes, 'protobuf').rows;
      assert.ok(rows.size > 0);
      assert.deepEqual(rows, toRows(signal, ref.decode(bytes)));
    });
  }

  test('an integer data point stays an integer, a missing field stays missing (not a proto3 zero)', () => {
    const ours = ourType('metrics');
    const bytes = ours.encode(ours.fromObject({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'n', sum: { dataPoints: [{ asInt: '5' }, { asDouble: 0.5 }] } }] }] }] })).finish();
    const msg = ours.decode(bytes) as unknown as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ sum: { dataPoints: Array<{ asInt: unknown; asDouble: unknown; timeUnixNano: unknown }> } }> }> }> };
    const [a, b] = msg.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.sum.dataPoints;
    assert.equal(String(a!.asInt), '5');
    assert.equal(a!.asDouble, null);
    assert.equal(b!.asInt, null);
    assert.equal(b!.asDouble, 0.5);
    assert.equal(a!.timeUnixNano, null);
  });
});
