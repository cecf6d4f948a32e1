/**
 * Docker mode's forwarding (issue 10, "the local stack becomes the team's agent"): the official
 * OpenTelemetry Collector's own configuration, extended with an OTLP/HTTP exporter to the team
 * server. Pure: takes the parsed base config and the central overlay's privacy processors, returns
 * the agent config as a plain object (the docker backend writes it as YAML). No secret is ever in
 * it: the member's secret and the team CA are files the collector reads (`${file:…}`, `ca_file`).
 *
 * - The local pipelines (logs/metrics/traces → clickhouse) stay exactly as in the base file.
 * - `logs/team`, `metrics/team`, `traces/team` take the same OTLP receiver (the collector fans a
 *   receiver out to every pipeline naming it), run the author's privacy processors (the central
 *   overlay's `transform/no-content`, `filter/aggregates-only`, `transform/aggregates-only`, whose
 *   lists test/unit/central-overlay.test.ts ties to src/core/team-privacy.ts), then export to
 *   `otlphttp/team` with a sending queue on the `file_storage/team` extension (a folder on the
 *   collector's queue volume, so the queue survives restarts) and endless retries.
 * - Only what arrives from now on is forwarded: the collector has no access to the local store's
 *   history (docker mode's history choice must be 'none', see dockerHistoryError).
 */
import type { ForwardConfig } from './forward-config';
import type { PrivacyLevel } from './team-privacy';

type Obj = Record<string, unknown>;

export const TEAM_EXPORTER = 'otlphttp/team';
export const TEAM_STORAGE = 'file_storage/team';
/** Where the compose file mounts `<secrets dir>/team` in the collector container. */
export const TEAM_DIR_IN_CONTAINER = '/run/secrets/team';
export const TEAM_SECRET_FILE = 'member-secret';
export const TEAM_CA_FILE = 'team-ca.pem';
/** The collector's internal metrics (Prometheus text), published on loopback for forwardStatus(). */
export const COLLECTOR_METRICS_PORT = 8888;
export const TEAM_SIGNALS = ['logs', 'metrics', 'traces'] as const;
export type Signal = (typeof TEAM_SIGNALS)[number];

/** The central overlay (telemetry-server/central/collector/): its collector file and one privacy-<level>.yaml. */
export interface CentralPrivacy {
  /** Parsed otel-collector.yaml: its `processors` hold the privacy processors. */
  collector: Obj;
  /** Parsed privacy-<level>.yaml: its pipelines name the processors of the level, in order. */
  level: Obj;
}

export class AgentConfigError extends Error {}

/** The privacy processors of a level, per signal, in the overlay's order (identity, limiter and batch are the team server's / ours). */
export function privacyProcessors(central: CentralPrivacy, privacy: PrivacyLevel): Record<Signal, string[]> {
  const pipelines = ((central.level.service as Obj | undefined)?.pipelines ?? {}) as Record<string, { processors?: string[] }>;
  const out = {} as Record<Signal, string[]>;
  for (const s of TEAM_SIGNALS) {
    const list = pipelines[s]?.processors;
    if (!Array.isArray(list)) throw new AgentConfigError(`privacy-${privacy}.yaml has no ${s} pipeline`);
    out[s] = list.filter((p) => p.endsWith('/no-content') || p.endsWith('/aggregates-only'));
  }
  return out;
}

/**
 * The agent config: `base` (telemetry-server/otel-collector-config.yaml, parsed) plus the team
 * exporter, queue storage and pipelines. `base` is not modified.
 */
export function agentCollectorConfig(base: Obj, central: CentralPrivacy, cfg: Pick<ForwardConfig, 'otlp_http' | 'privacy'>, queueKey = 'default'): Obj {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(queueKey)) throw new AgentConfigError(`queue key ${JSON.stringify(queueKey)} is not a folder name`);
  if (!/^https:\/\//.test(cfg.otlp_http)) throw new AgentConfigError(`The team endpoint must be https (${cfg.otlp_http}).`);
  const c = structuredClone(base) as Obj;
  const section = (k: string): Obj => ((c[k] ??= {}) as Obj);
  const extensions = section('extensions');
  const processors = section('processors');
  const exporters = section('exporters');
  const service = section('service');
  const pipelines = ((service.pipelines ??= {}) as Obj);
  const baseFileStorage = (extensions.file_storage as Obj | undefined)?.directory;
  extensions[TEAM_STORAGE] = {
    // Its own folder on the same queue volume: the team queue and the local queue never mix. One
    // folder per target (queueKey): records queued for one team never go to another, and a dropped
    // queue is a folder no config names again.
    directory: `${typeof baseFileStorage === 'string' ? baseFileStorage : '/var/lib/otelcol/file_storage'}/team-${queueKey}`,
    create_directory: true,
    timeout: '2s',
  };
  const svcExt = Array.isArray(service.extensions) ? [...(service.extensions as string[])] : [];
  if (!svcExt.includes(TEAM_STORAGE)) svcExt.push(TEAM_STORAGE);
  service.extensions = svcExt;

  const wanted = privacyProcessors(central, cfg.privacy);
  const centralProcessors = (central.collector.processors ?? {}) as Obj;
  for (const name of new Set(Object.values(wanted).flat())) {
    if (!(name in centralProcessors)) throw new AgentConfigError(`The central overlay defines no processor ${name}.`);
    processors[name] = structuredClone(centralProcessors[name]);
  }
  processors['batch/team'] = { timeout: '5s', send_batch_size: 2000 };

  exporters[TEAM_EXPORTER] = {
    endpoint: cfg.otlp_http.replace(/\/+$/, ''),
    tls: { ca_file: `${TEAM_DIR_IN_CONTAINER}/${TEAM_CA_FILE}`, min_version: '1.2' },
    // Read by the collector's file provider at start; the value is in a 0600 file, not here.
    headers: { Authorization: `Bearer \${file:${TEAM_DIR_IN_CONTAINER}/${TEAM_SECRET_FILE}}` },
    timeout: '30s',
    sending_queue: { enabled: true, num_consumers: 2, queue_size: 10000, storage: TEAM_STORAGE },
    retry_on_failure: { enabled: true, initial_interval: '5s', max_interval: '60s', max_elapsed_time: '0s' },
  };

  for (const s of TEAM_SIGNALS) {
    // aggregates-only sends no traces at all (the overlay's filter drops every span): no pipeline.
    if (cfg.privacy === 'aggregates-only' && s === 'traces') continue;
    const local = pipelines[s] as { receivers?: string[]; processors?: string[] } | undefined;
    const receivers = local?.receivers ?? ['otlp'];
    const first = local?.processors?.includes('memory_limiter') ? ['memory_limiter'] : [];
    pipelines[`${s}/team`] = { receivers: [...receivers], processors: [...first, ...wanted[s], 'batch/team'], exporters: [TEAM_EXPORTER] };
  }
  return c;
}

/** Docker mode forwards what arrives from now on only: any other history choice is refused, with the way out. */
export function dockerHistoryError(history: ForwardConfig['history']): string | undefined {
  if (history === 'none') return undefined;
  return `In docker mode the collector forwards what arrives from now on; it cannot move the history (${history === 'all' ? 'all of it' : `since ${history}`}). ` +
    'Choose "none", or switch to embedded mode (Switch Mode), whose server moves history from its own store.';
}
