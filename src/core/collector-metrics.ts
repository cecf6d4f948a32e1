/**
 * Docker mode's forward status from the collector's own metrics (Prometheus text on :8888): what
 * the team exporter (`otlphttp/team`) sent, failed to send and holds in its queue. Pure.
 *
 * Honest limits: the counters start at 0 with every collector start; `queue_size` counts queued
 * requests (batches), not rows; "failing" means failures grew and nothing was sent since the
 * previous look (or, on the first look, failures and no success).
 */
import type { ForwardStatus } from './forward-config';
import { TEAM_EXPORTER } from './collector-agent';

export interface ExporterCounters {
  sent: number;
  failed: number;
  queue: number;
}

const SENT = ['otelcol_exporter_sent_log_records', 'otelcol_exporter_sent_metric_points', 'otelcol_exporter_sent_spans'];
const FAILED = ['otelcol_exporter_send_failed_log_records', 'otelcol_exporter_send_failed_metric_points', 'otelcol_exporter_send_failed_spans'];
const QUEUE = 'otelcol_exporter_queue_size';

/** Sums the team exporter's series (every data type, with or without the `_total` suffix newer collectors add). */
export function exporterCounters(text: string, exporter = TEAM_EXPORTER): ExporterCounters {
  const out: ExporterCounters = { sent: 0, failed: 0, queue: 0 };
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[1]!.replace(/_total$/, '');
    if (!new RegExp(`(^|,)\\s*exporter="${exporter.replace(/[/.]/g, '\\$&')}"`).test(m[2]!)) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    if (SENT.includes(name)) out.sent += v;
    else if (FAILED.includes(name)) out.failed += v;
    else if (name === QUEUE) out.queue += v;
  }
  return out;
}

export interface StatusMemory {
  /** The previous look, to tell "failing now" from "failed once, long ago". */
  last?: ExporterCounters & { at: string };
  lastDeliveryAt?: string;
  failingSince?: string;
}

/** Maps a look at the counters to ForwardStatus, updating `memory` (the backend keeps one per process). */
export function dockerForwardStatus(
  info: { enabled: boolean; team: string; member: string; enabled_at: string },
  counters: ExporterCounters,
  localRows: number,
  memory: StatusMemory,
  now = new Date().toISOString(),
): ForwardStatus {
  const prev = memory.last;
  // A restarted collector starts its counters from 0 again.
  const base = prev && counters.sent >= prev.sent && counters.failed >= prev.failed ? prev : { sent: 0, failed: 0 };
  const sentNow = counters.sent > base.sent;
  const failedNow = counters.failed > base.failed;
  if (sentNow) memory.lastDeliveryAt = now;
  const failing = failedNow && !sentNow;
  if (failing) memory.failingSince ??= now;
  else if (sentNow) memory.failingSince = undefined;
  memory.last = { ...counters, at: now };
  const state: ForwardStatus['state'] = !info.enabled ? 'paused' : memory.failingSince ? 'failing' : counters.queue > 0 ? 'delivering' : 'idle';
  const st: ForwardStatus = {
    state, team: info.team, member: info.member, enabled_at: info.enabled_at,
    local_rows: localRows, delivered_rows: counters.sent, queue_rows: counters.queue,
  };
  if (memory.lastDeliveryAt) st.last_delivery_at = memory.lastDeliveryAt;
  if (memory.failingSince) {
    st.failing_since = memory.failingSince;
    st.last_error = `The collector could not deliver ${counters.failed} record(s) to the team server since it started (it retries; see its log: docker logs of the otel-collector container).`;
  }
  return st;
}
