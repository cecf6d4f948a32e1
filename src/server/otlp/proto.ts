/**
 * OTLP protobuf messages, from the OpenTelemetry JS project's own generated protobufjs root
 * (@opentelemetry/otlp-transformer 0.214.0 ships it; later releases dropped their decoders).
 * We decode with it and never hand-parse the wire format.
 */
import * as protobuf from 'protobufjs/minimal';
import Long from 'long';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const generated = require('@opentelemetry/otlp-transformer/build/src/generated/root');

// int64/fixed64 (nanosecond timestamps) must decode losslessly. protobufjs finds `long` by a
// dynamic require that a bundle cannot see, so hand it over explicitly.
protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();

interface Decoder {
  decode(buf: Uint8Array): unknown;
}

const v1 = generated.opentelemetry.proto;
export const ExportLogsServiceRequest: Decoder = v1.collector.logs.v1.ExportLogsServiceRequest;
export const ExportMetricsServiceRequest: Decoder = v1.collector.metrics.v1.ExportMetricsServiceRequest;
export const ExportTraceServiceRequest: Decoder = v1.collector.trace.v1.ExportTraceServiceRequest;

/** google.rpc.Status {code=1, message=2}: the body of an OTLP/HTTP protobuf error reply. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).finish();
}
