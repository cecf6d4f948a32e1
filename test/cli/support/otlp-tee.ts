// A transparent OTLP relay between the real CLI and the server under test: it forwards every export
// unchanged (gRPC and HTTP) and keeps a decoded copy, so a test knows exactly what the CLI sent and can
// check that nothing was dropped on the way into ClickHouse.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
// A protobufjs static root of the OTLP protos, used here only to read what the CLI sent.
import * as otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root';

export type AttrMap = Record<string, string>;

export interface SentLogRecord {
  protocol: string;
  resource: AttrMap;
  scope: string;
  body: string;
  attributes: AttrMap;
  /** The OTLP type of each attribute value (stringValue, intValue, doubleValue, …). */
  types: Record<string, string>;
}

export interface SentMetricPoint {
  protocol: string;
  resource: AttrMap;
  name: string;
  kind: string;
  attributes: AttrMap;
  value: number;
}

export interface OtlpTee {
  /** Point the CLI here (grpc). */
  grpcEndpoint: string;
  /** Point the CLI here (http/protobuf, http/json). */
  httpEndpoint: string;
  logs: SentLogRecord[];
  metrics: SentMetricPoint[];
  /** Export requests seen, as `<protocol> <signal>`. */
  exports: string[];
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string | { toString(): string };
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: unknown;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}

const root = otlpRoot as unknown as {
  opentelemetry: { proto: { collector: Record<string, Record<string, Record<string, { decode(b: Uint8Array): unknown; toObject(m: unknown, o: object): unknown }>>> } };
};
const collector = root.opentelemetry.proto.collector;
const DECODERS = {
  logs: collector.logs!.v1!.ExportLogsServiceRequest!,
  metrics: collector.metrics!.v1!.ExportMetricsServiceRequest!,
  traces: collector.trace!.v1!.ExportTraceServiceRequest!,
};
type Signal = keyof typeof DECODERS;

const GRPC_SERVICES: Record<Signal, string> = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/** The AnyValue as a string, the way the collector's exporter flattens attributes into Map(String, String). */
export function anyValueToString(v: AnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.arrayValue) return JSON.stringify((v.arrayValue.values ?? []).map(anyValueToString));
  if (v.kvlistValue) return JSON.stringify(Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, anyValueToString(kv.value)])));
  return '';
}

function valueType(v: AnyValue | undefined): string {
  return v ? (Object.keys(v).find((k) => (v as Record<string, unknown>)[k] !== undefined) ?? 'empty') : 'empty';
}

function attrs(list: KeyValue[] | undefined): AttrMap {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValueToString(kv.value)]));
}

function decode(signal: Signal, bytes: Buffer, json: boolean): unknown {
  if (json) return JSON.parse(bytes.toString('utf8')) as unknown;
  const d = DECODERS[signal];
  return d.toObject(d.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: false });
}

interface LogsReq {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { scope?: { name?: string }; logRecords?: { body?: AnyValue; attributes?: KeyValue[] }[] }[] }[];
}
interface NumberPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: number | string;
}
interface MetricsReq {
  resourceMetrics?: { resource?: { attributes?: KeyValue[] }; scopeMetrics?: { metrics?: Record<string, unknown>[] }[] }[];
}

export async function startOtlpTee(target: { grpc: string; http: string }): Promise<OtlpTee> {
  const logs: SentLogRecord[] = [];
  const metrics: SentMetricPoint[] = [];
  const exports: string[] = [];

  // Recording must never break the relay: a decode failure is kept as a record the test will show.
  function record(protocol: string, signal: Signal, bytes: Buffer, json: boolean): void {
    exports.push(`${protocol} ${signal}`);
    let msg: unknown;
    try {
      msg = decode(signal, bytes, json);
    } catch (err) {
      exports.push(`${protocol} ${signal} UNDECODABLE: ${String(err)}`);
      return;
    }
    if (signal === 'logs') {
      for (const rl of (msg as LogsReq).resourceLogs ?? []) {
        const resource = attrs(rl.resource?.attributes);
        for (const sl of rl.scopeLogs ?? [])
          for (const lr of sl.logRecords ?? [])
            logs.push({
              protocol,
              resource,
              scope: sl.scope?.name ?? '',
              body: anyValueToString(lr.body),
              attributes: attrs(lr.attributes),
              types: Object.fromEntries((lr.attributes ?? []).map((kv) => [kv.key, valueType(kv.value)])),
            });
      }
    } else if (signal === 'metrics') {
      for (const rm of (msg as MetricsReq).resourceMetrics ?? []) {
        const resource = attrs(rm.resource?.attributes);
        for (const sm of rm.scopeMetrics ?? [])
          for (const m of sm.metrics ?? []) {
            const kind = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'].find((k) => m[k] !== undefined) ?? 'unknown';
            const points = ((m[kind] as { dataPoints?: NumberPoint[] } | undefined)?.dataPoints ?? []);
            for (const p of points)
              metrics.push({ protocol, resource, name: String(m.name), kind, attributes: attrs(p.attributes), value: Number(p.asDouble ?? p.asInt ?? NaN) });
          }
      }
    }
  }

  // HTTP: forward the body byte for byte with its content headers, relay the server's answer.
  const httpServer: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const path = (req.url ?? '/').split('?')[0]!;
        const signal = path.replace('/v1/', '') as Signal;
        const ctype = String(req.headers['content-type'] ?? '');
        if (signal in DECODERS) {
          const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          record(ctype.includes('json') ? 'http/json' : 'http/protobuf', signal, plain, ctype.includes('json'));
        }
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'content-encoding']) if (req.headers[h]) headers[h] = String(req.headers[h]);
        try {
          const up = await fetch(target.http + (req.url ?? '/'), { method: req.method, headers, body: raw });
          const body = Buffer.from(await up.arrayBuffer());
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/octet-stream' }).end(body);
        } catch (err) {
          res.writeHead(502, { 'content-type': 'text/plain' }).end(`otlp-tee: upstream ${target.http} failed: ${String(err)}`);
        }
      })();
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const httpPort = (httpServer.address() as AddressInfo).port;

  // gRPC: raw-bytes passthrough of the three Export methods.
  const ident = (b: Buffer) => b;
  const upstream = new grpc.Client(target.grpc, grpc.credentials.createInsecure());
  const grpcServer = new grpc.Server();
  for (const [signal, path] of Object.entries(GRPC_SERVICES) as [Signal, string][]) {
    const def: grpc.ServiceDefinition = {
      Export: { path, requestStream: false, responseStream: false, requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident },
    };
    grpcServer.addService(def, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        record('grpc', signal, call.request, false);
        upstream.makeUnaryRequest<Buffer, Buffer>(path, ident, ident, call.request, new grpc.Metadata(), (err, out) => {
          if (err) cb({ code: err.code, details: err.details });
          else cb(null, out ?? Buffer.alloc(0));
        });
      },
    });
  }
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  return {
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    logs,
    metrics,
    exports,
    async close() {
      upstream.close();
      grpcServer.forceShutdown();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
