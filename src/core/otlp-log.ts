/**
 * The extension's own `chapter_focus` record as an OTLP/HTTP JSON ExportLogsServiceRequest, so
 * the focus timeline travels the same pipeline as Claude Code's events in every mode.
 */
import { localHttpUrl } from './otel-env';

export const FOCUS_SERVICE_NAME = 'chapter-telemetry';
export const FOCUS_EVENT_NAME = 'chapter_focus';

export interface FocusRecord {
  chapter: string;
  userId: string;
  workspace?: string;
  /** Workspace-relative path; leave undefined when the author turned paths off. */
  file?: string;
  /** Defaults to now. */
  time?: Date;
  /** The extension's version, as the scope version. */
  version?: string;
}

type AnyValue = { stringValue: string };
type KeyValue = { key: string; value: AnyValue };

function kv(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

/** Nanoseconds since the epoch as the decimal string OTLP JSON uses for fixed64. */
export function unixNanoString(d: Date): string {
  return (BigInt(d.getTime()) * 1_000_000n).toString();
}

export function buildFocusLogRequest(r: FocusRecord): object {
  const time = r.time ?? new Date();
  const nanos = unixNanoString(time);
  const attributes: KeyValue[] = [
    kv('event.name', FOCUS_EVENT_NAME),
    kv('event.timestamp', time.toISOString()),
    kv('chapter', r.chapter),
    kv('user_id', r.userId),
  ];
  if (r.workspace) attributes.push(kv('workspace', r.workspace));
  if (r.file) attributes.push(kv('file', r.file.replace(/\\/g, '/')));
  return {
    resourceLogs: [
      {
        resource: { attributes: [kv('service.name', FOCUS_SERVICE_NAME), kv('user_id', r.userId)] },
        scopeLogs: [
          {
            scope: { name: 'chapter-telemetry.focus', version: r.version ?? '' },
            logRecords: [
              {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: `${FOCUS_SERVICE_NAME}.${FOCUS_EVENT_NAME}` },
                attributes,
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * Where to POST the record: `<otlp-http>/v1/logs`. An explicit http/* endpoint is used as is; for a
 * gRPC endpoint (or none) the OTLP HTTP port of the same host is used, since the record is JSON over HTTP.
 */
export function focusLogsUrl(opts: { protocol: string; endpoint?: string; host: string; otlpHttpPort: number }): string {
  const explicit = opts.endpoint?.trim().replace(/\/+$/, '');
  if (explicit && opts.protocol !== 'grpc') return `${explicit}/v1/logs`;
  if (explicit) {
    const u = new URL(explicit);
    u.port = String(opts.otlpHttpPort);
    return `${u.origin}/v1/logs`;
  }
  return `${localHttpUrl(opts.host, opts.otlpHttpPort)}/v1/logs`;
}
