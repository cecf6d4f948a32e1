/**
 * The environment that makes Claude Code export telemetry to our stack, as a plain map.
 * Pure and deterministic: the same inputs always give the same map, so the vscode layer
 * can compare maps and write the terminal environment only when something really changed.
 */

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

export interface OtelEnvInput {
  protocol: OtlpProtocol;
  /** Explicit endpoint (e.g. a remote collector); when empty it is built from host + ports. */
  endpoint?: string;
  host: string;
  grpcPort: number;
  otlpHttpPort: number;
  userId: string;
  chapter?: string;
  workspace?: string;
  logUserPrompts: boolean;
  metricExportIntervalMs?: number;
  logsExportIntervalMs?: number;
}

/** Every key this module can write: removing exactly these undoes it. */
export const MANAGED_ENV_KEYS = [
  'CLAUDE_CODE_ENABLE_TELEMETRY',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_LOGS_EXPORT_INTERVAL',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_LOG_USER_PROMPTS',
] as const;

/** A client cannot connect to a wildcard address; loopback reaches a server bound to it. */
export function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `http://host:port` a client on this machine uses for a server bound to `host` (IPv6 in brackets, wildcards → loopback). */
export function localHttpUrl(host: string, port: number): string {
  return `http://${hostForUrl(clientHost(host))}:${port}`;
}

/** The OTLP endpoint for a protocol: gRPC on the gRPC port, http/* on the OTLP HTTP port. */
export function otlpEndpoint(input: Pick<OtelEnvInput, 'protocol' | 'endpoint' | 'host' | 'grpcPort' | 'otlpHttpPort'>): string {
  const explicit = input.endpoint?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  return localHttpUrl(input.host, input.protocol === 'grpc' ? input.grpcPort : input.otlpHttpPort);
}

/**
 * Percent-encodes a key or value of OTEL_RESOURCE_ATTRIBUTES (W3C Baggage octets): `,` `=` `%`,
 * spaces, non-ASCII (as UTF-8) and anything outside printable ASCII must not appear raw.
 */
export function encodeResourceValue(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const safe = code > 0x20 && code < 0x7f && ch !== ',' && ch !== '=' && ch !== '%' && ch !== ';' && ch !== '"' && ch !== '\\';
    out += safe ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

/** `k=v,k=v` with encoded parts; empty values are left out. */
export function resourceAttributes(attrs: Record<string, string | undefined>): string {
  return Object.entries(attrs)
    .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
    .map(([k, v]) => `${encodeResourceValue(k)}=${encodeResourceValue(v)}`)
    .join(',');
}

/** Inverse of resourceAttributes, for tests and for reading back what a terminal had. */
export function parseResourceAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** The env map for a terminal (or settings.local.json), keys in a stable order. */
export function buildOtelEnv(input: OtelEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: input.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint(input),
    OTEL_METRIC_EXPORT_INTERVAL: String(input.metricExportIntervalMs ?? 10_000),
    OTEL_LOGS_EXPORT_INTERVAL: String(input.logsExportIntervalMs ?? 5_000),
  };
  const attrs = resourceAttributes({ user_id: input.userId, chapter: input.chapter, workspace: input.workspace });
  if (attrs) env.OTEL_RESOURCE_ATTRIBUTES = attrs;
  if (input.logUserPrompts) env.OTEL_LOG_USER_PROMPTS = '1';
  return env;
}

/** True when two env maps hold the same keys and values (order does not matter). */
export function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}
