/** Host-port checks before Docker binds them, so the message can name the port and its role. */
import { createServer } from 'node:net';

const ROLES: Record<number, string> = { 4317: 'OTLP gRPC', 4318: 'OTLP HTTP', 8123: 'ClickHouse HTTP', 13133: 'collector health check', 8888: 'collector metrics, moved with the OTELCOL_METRICS_PORT environment variable' };

export function portRole(containerPort: number): string {
  return ROLES[containerPort] ?? `container port ${containerPort}`;
}

/** True when nothing listens on host:port right now (only meaningful for a local engine). */
export async function portFree(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
