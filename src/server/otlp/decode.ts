/**
 * One entry point for both OTLP transports: an export request body (protobuf or JSON) in,
 * rows per raw table out. Anything that does not decode becomes an OtlpInputError (HTTP 400 /
 * gRPC INVALID_ARGUMENT) — bad input never reaches the engine and never crashes the server.
 */
import { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportTraceServiceRequest } from './proto';
import { logsToRows, metricsToRows, tracesToRows, type LogsRequest, type MetricsRequest, type TableRows, type TracesRequest } from './rows';

export type Signal = 'logs' | 'metrics' | 'traces';
export type Encoding = 'protobuf' | 'json';

export class OtlpInputError extends Error {
  override name = 'OtlpInputError';
}

export interface Decoded {
  rows: TableRows;
  /** Log records, metric data points or spans in the request. */
  items: number;
}

const decoders = { logs: ExportLogsServiceRequest, metrics: ExportMetricsServiceRequest, traces: ExportTraceServiceRequest };
const topKeys = { logs: 'resourceLogs', metrics: 'resourceMetrics', traces: 'resourceSpans' } as const;

function parse(signal: Signal, body: Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'protobuf') {
    try {
      return decoders[signal].decode(body);
    } catch (err) {
      throw new OtlpInputError(`malformed OTLP protobuf ${signal} request: ${(err as Error).message}`);
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new OtlpInputError(`malformed OTLP JSON ${signal} request: ${(err as Error).message}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new OtlpInputError(`OTLP JSON ${signal} request must be an object with "${topKeys[signal]}"`);
  const top = (obj as Record<string, unknown>)[topKeys[signal]];
  if (top !== undefined && !Array.isArray(top)) throw new OtlpInputError(`"${topKeys[signal]}" must be an array`);
  return obj;
}

export function decodeExport(signal: Signal, body: Uint8Array, encoding: Encoding): Decoded {
  const req = parse(signal, body, encoding);
  const rows: TableRows = new Map();
  try {
    const items = signal === 'logs' ? logsToRows(req as LogsRequest, rows)
      : signal === 'metrics' ? metricsToRows(req as MetricsRequest, rows)
      : tracesToRows(req as TracesRequest, rows);
    return { rows, items };
  } catch (err) {
    throw new OtlpInputError(`OTLP ${signal} request has an unexpected shape: ${(err as Error).message}`);
  }
}
