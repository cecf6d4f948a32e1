/**
 * An OTLP/HTTP protobuf sender that sends as Claude Code's exporter does (OpenTelemetry JS,
 * `@opentelemetry/otlp-exporter-base`'s Node transport): `node:http` with a keep-alive agent, the body piped in
 * from a Readable (chunked, no Content-Length), no compression unless OTEL_EXPORTER_OTLP_COMPRESSION asks for it,
 * the response read whole, one export in flight per sender (the batch processor waits for each export).
 *
 * Why not `fetch`, which the ingest bench used before: it is not what the exporter uses, and it costs the bench
 * process ~2.5× this sender's CPU per export (3.7 against 1.4 µs per record, 8 interleaved rounds, h21) on the two
 * cores the server uses too. Through the server the two give the same rate (paired median 1.01×; BENCHMARKS.md
 * "Ingest"), so the change makes the bench faithful, not faster.
 */
import * as http from 'node:http';
import { Readable } from 'node:stream';

export interface OtlpHttpSender {
  send(body: Buffer): Promise<void>;
  /** Exports sent again because a kept-alive connection was closed as it was reused (the exporter retries those). */
  readonly resent: number;
  close(): void;
}

export function otlpHttpSender(url: string, path = '/v1/logs'): OtlpHttpSender {
  const target = new URL(path, url);
  const agent = new http.Agent({ keepAlive: true });
  let resent = 0;
  const once = (body: Buffer) => new Promise<void>((resolve, reject) => {
    const req = http.request({ hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'Content-Type': 'application/x-protobuf' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode} ${Buffer.concat(chunks).toString('latin1')}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    Readable.from([body]).pipe(req);
  });
  return {
    async send(body) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(body);
        } catch (err) {
          // A kept-alive connection the server closed just as it was reused: sent again, as the exporter retries
          // ECONNRESET; the server stores an export it already holds once.
          if (attempt >= 2 || (err as { code?: string }).code !== 'ECONNRESET') throw err;
          resent++;
        }
      }
    },
    get resent() {
      return resent;
    },
    close: () => agent.destroy(),
  };
}
