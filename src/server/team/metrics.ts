/**
 * The team server's Prometheus text (`GET /metrics` on the OTLP/HTTP port, admin members only):
 * per member what was received, stored, dropped by the privacy level and refused (by reason), plus
 * the ingest queue (bytes and exports), the process's memory (the engine runs in it) and the memory
 * the engine itself tracks, the engine's stored bytes, the data directory's size and its free space.
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

export type RejectReason = 'unauthenticated' | 'rate_limited' | 'invalid' | 'too_large' | 'unavailable';

interface PerMember {
  received: number;
  stored: number;
  dropped: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface RuntimeGauges {
  queueBytes: number;
  /** Exports accepted and not yet acknowledged (waiting for or inside their insert). */
  queueExports: number;
  rssBytes: number;
  dataDir?: string;
  /** What the engine reports about itself (engineGauges), when it answered. */
  engine?: EngineGauges;
}

export interface EngineGauges {
  /** `system.metrics` MemoryTracking: memory the engine's allocations hold now. */
  memoryTrackedBytes: number;
  /** `system.parts`: bytes on disk of the active parts of every table. */
  partsBytes: number;
}

/** Asks the engine (chDB in this process, or a ClickHouse server) for its own memory and storage figures. */
export async function engineGauges(query: (sql: string) => Promise<Buffer>): Promise<EngineGauges | undefined> {
  try {
    const out = await query(
      "SELECT (SELECT toInt64(value) FROM system.metrics WHERE metric = 'MemoryTracking') AS mem, (SELECT toUInt64(sum(bytes_on_disk)) FROM system.parts WHERE active) AS parts FORMAT JSONEachRow",
    );
    const r = JSON.parse(out.toString('utf8')) as { mem: string | number; parts: string | number };
    return { memoryTrackedBytes: Number(r.mem), partsBytes: Number(r.parts) };
  } catch {
    return undefined; // the engine is busy or closing: the figures are left out of this scrape
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Prometheus label value escaping (backslash, quote, newline). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class TeamMetrics {
  private readonly members = new Map<string, PerMember>();
  private disk = { bytes: 0, at: 0 };

  private of(member: string): PerMember {
    let m = this.members.get(member);
    if (!m) this.members.set(member, (m = { received: 0, stored: 0, dropped: 0, rejected: {} }));
    return m;
  }

  /** An accepted export: `items` decoded, `dropped` of them removed by the privacy level. */
  accepted(member: string, items: number, dropped: number): void {
    const m = this.of(member);
    m.received += items;
    m.stored += items - dropped;
    m.dropped += dropped;
  }

  /** A refused request; `member` is `unknown` when no credential matched. */
  rejected(member: string, reason: RejectReason): void {
    const m = this.of(member);
    m.rejected[reason] = (m.rejected[reason] ?? 0) + 1;
  }

  async render(g: RuntimeGauges): Promise<string> {
    // Walking the data directory costs I/O: at most once a minute.
    if (g.dataDir && Date.now() - this.disk.at > 60_000) this.disk = { bytes: await dirBytes(g.dataDir), at: Date.now() };
    const lines: string[] = [];
    const counter = (name: string, help: string, rows: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of rows) lines.push(`${name}{${labels}} ${v}`);
    };
    const all = [...this.members.entries()].sort(([a], [b]) => a.localeCompare(b));
    counter('chapter_telemetry_team_records_received_total', 'Records (log records, metric points, spans) in accepted exports.', all.map(([n, m]) => [`member="${label(n)}"`, m.received]));
    counter('chapter_telemetry_team_records_stored_total', 'Records stored after the privacy level.', all.map(([n, m]) => [`member="${label(n)}"`, m.stored]));
    counter('chapter_telemetry_team_records_dropped_total', 'Records the privacy level did not store.', all.map(([n, m]) => [`member="${label(n)}"`, m.dropped]));
    counter('chapter_telemetry_team_requests_rejected_total', 'Export requests refused, by reason.',
      all.flatMap(([n, m]) => Object.entries(m.rejected).map(([r, v]) => [`member="${label(n)}",reason="${r}"`, v ?? 0] as [string, number])));
    lines.push('# HELP chapter_telemetry_ingest_queue_bytes Bytes of accepted rows waiting for their insert.', '# TYPE chapter_telemetry_ingest_queue_bytes gauge', `chapter_telemetry_ingest_queue_bytes ${g.queueBytes}`);
    const gauge = (name: string, help: string, v: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${v}`);
    gauge('chapter_telemetry_ingest_queue_exports', 'Exports accepted and not yet acknowledged (waiting for or inside their insert).', g.queueExports);
    if (g.engine) {
      gauge('chapter_telemetry_engine_memory_tracked_bytes', "Memory the engine's allocations hold (system.metrics MemoryTracking).", g.engine.memoryTrackedBytes);
      gauge('chapter_telemetry_engine_parts_bytes', 'Bytes on disk of the active parts of every table (system.parts).', g.engine.partsBytes);
    }
    if (g.dataDir) {
      const fs = await statfs(g.dataDir).catch(() => undefined);
      if (fs) {
        gauge('chapter_telemetry_data_dir_free_bytes', "Space left for this user on the data directory's file system.", fs.bavail * fs.bsize);
        gauge('chapter_telemetry_data_dir_filesystem_bytes', "Size of the data directory's file system.", fs.blocks * fs.bsize);
      }
    }
    lines.push('# HELP chapter_telemetry_process_resident_memory_bytes Resident memory of the server process (the engine runs in it).', '# TYPE chapter_telemetry_process_resident_memory_bytes gauge', `chapter_telemetry_process_resident_memory_bytes ${g.rssBytes}`);
    if (g.dataDir) lines.push('# HELP chapter_telemetry_data_dir_bytes Size of the data directory (refreshed at most once a minute).', '# TYPE chapter_telemetry_data_dir_bytes gauge', `chapter_telemetry_data_dir_bytes ${this.disk.bytes}`);
    return lines.join('\n') + '\n';
  }
}
