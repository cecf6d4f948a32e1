/**
 * OTLP/gRPC receiver (:4317): the three collector services' Export methods. Requests are
 * decoded in the handler (not by grpc-js) so malformed protobuf becomes INVALID_ARGUMENT with a
 * message, and an engine failure UNAVAILABLE, which OTLP exporters retry.
 */
import * as grpc from '@grpc/grpc-js';
import { OtlpInputError, type Signal } from './otlp/decode';
import type { ExportHandler } from './otlp/export';

const SERVICES: Record<Signal, string> = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

const EMPTY = Buffer.alloc(0);

function serviceFor(path: string): grpc.ServiceDefinition {
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      // An empty Export*ServiceResponse encodes to zero bytes.
      responseSerialize: () => EMPTY,
      responseDeserialize: (b: Buffer) => b,
    },
  };
}

export function createOtlpGrpcServer(handler: ExportHandler, opts: { maxMessageBytes: number; isReady(): boolean }): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': 1024 * 1024,
  });
  for (const [signal, path] of Object.entries(SERVICES) as Array<[Signal, string]>) {
    server.addService(serviceFor(path), {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        if (!opts.isReady()) {
          callback({ code: grpc.status.UNAVAILABLE, details: 'the telemetry store is starting or stopping; retry shortly' });
          return;
        }
        handler.handle(signal, call.request, 'protobuf').then(
          () => callback(null, EMPTY),
          (err: unknown) => {
            if (err instanceof OtlpInputError) callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
            else callback({ code: grpc.status.UNAVAILABLE, details: `could not store the data, retry later: ${(err as Error).message}` });
          },
        );
      },
    });
  }
  return server;
}

export async function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
}
