/**
 * OTLP/gRPC receiver (:4317): the three collector services' Export methods. Requests are
 * decoded in the handler (not by grpc-js) so malformed protobuf becomes INVALID_ARGUMENT with a
 * message, and an engine failure UNAVAILABLE, which OTLP exporters retry.
 */
import * as grpc from '@grpc/grpc-js';
import { OtlpInputError, type Signal } from './otlp/decode';
import type { ExportHandler } from './otlp/export';
import type { TeamServing } from './team/serving';
import type { TeamPolicy } from './team/privacy';
import { grpcPeerAddress } from './team/rate-limit';

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

/** A refusal before anything is stored (team credentials, limits). */
class GrpcRefusal extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

export function createOtlpGrpcServer(handler: ExportHandler, opts: { maxMessageBytes: number; isReady(): boolean; team?: TeamServing }): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': 1024 * 1024,
  });
  /** On a team server: who sent the call (from the `authorization` metadata) and whether they may now. */
  async function teamPolicy(call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<TeamPolicy | undefined> {
    const team = opts.team;
    if (!team) return undefined;
    const header = call.metadata.get('authorization')[0];
    const source = grpcPeerAddress(call.getPeer());
    const throttled = team.authThrottled(source);
    const member = await team.authenticate(typeof header === 'string' ? header : undefined, source);
    if (!member) team.metrics.rejected('unknown', 'unauthenticated');
    const wait = member ? 0 : throttled;
    if (wait > 0) throw new GrpcRefusal(grpc.status.RESOURCE_EXHAUSTED, `too many failed authentications from this address; retry after ${wait} s`);
    if (!member) throw new GrpcRefusal(grpc.status.UNAUTHENTICATED, 'missing, wrong or revoked team credential: send authorization: Bearer <secret> (OTEL_EXPORTER_OTLP_HEADERS)');
    const a = team.admit(member, call.request.length);
    if (!a.ok) throw new GrpcRefusal(grpc.status.RESOURCE_EXHAUSTED, `${member.name} is sending too fast (${a.reason}); retry after ${a.retryAfterSeconds} s`);
    return team.policyFor(member);
  }
  for (const [signal, path] of Object.entries(SERVICES) as Array<[Signal, string]>) {
    server.addService(serviceFor(path), {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        if (!opts.isReady()) {
          callback({ code: grpc.status.UNAVAILABLE, details: 'the telemetry store is starting or stopping; retry shortly' });
          return;
        }
        // The message is in; it is decoded next: an insert about to start waits for it, briefly (Ingest.announce).
        const arrived = handler.announce(signal);
        teamPolicy(call).then((team) => handler.handle(signal, call.request, 'protobuf', team, arrived)).then(
          () => callback(null, EMPTY),
          (err: unknown) => {
            arrived();
            if (err instanceof GrpcRefusal) callback({ code: err.code, details: err.message });
            else if (err instanceof OtlpInputError) callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
            else callback({ code: grpc.status.UNAVAILABLE, details: `could not store the data, retry later: ${(err as Error).message}` });
          },
        );
      },
    });
  }
  return server;
}

/** `tls`: a team server's certificate; without it the port is plain (loopback only, main.ts checks). */
export async function bindGrpc(server: grpc.Server, host: string, port: number, tls?: { cert: Buffer; key: Buffer }): Promise<number> {
  const creds = tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : grpc.ServerCredentials.createInsecure();
  return await new Promise((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, creds, (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
}
