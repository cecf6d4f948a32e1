// Archive before cleanup at size (issue 11): N events that all pass their 90-day retention within 7 days,
// archived as Parquet by the extension's path (count + streamed export over :8123 through @clickhouse/client into
// a temp file, renamed) against the bare engine writing exactly the same rows (same WHERE) to a local file itself
// (INTO OUTFILE, chDB in this process, same schema and rows). The server's RSS growth while it serves the archive is
// sampled every 100 ms. Size: CT_BENCH_ARCHIVE_ROWS (default 1000000); runs, engine and ours interleaved, medians
// reported (one run is only as good as the load of its second): CT_BENCH_ARCHIVE_RUNS (default 3).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveUntilSec } from '../src/core/data/archive-plan';
import { planExport } from '../src/core/data/export-plan';
import { applyMigrations, migrationsDir } from '../src/server/migrations';
import { openChdbStore } from '../src/server/store/chdb';
import { archiveExpiring, countExpiring } from '../src/stack/archive-data';
import { startServer } from '../test/support/server';
import { median, rssMiB, table, timeMs, verdict } from './lib/measure';

const ROWS = Number(process.env.CT_BENCH_ARCHIVE_ROWS ?? 1_000_000);
const RUNS = Number(process.env.CT_BENCH_ARCHIVE_RUNS ?? 3);

async function main(): Promise<void> {
  const nowSec = Math.floor(Date.now() / 1000);
  // Ages 84–89 days, spread over the rows: every row passes a 90-day TTL within the next 7 days.
  const insert = `INSERT INTO default.telemetry_events (timestamp, event_type, user_id, session_id, model, cost_usd, input_tokens, chapter_context)
    SELECT toDateTime64(${nowSec - 89 * 86_400} + intDiv(number * ${5 * 86_400}, ${ROWS}), 3), 'api_request', 'alice', concat('s', toString(intDiv(number, 50))),
      ['claude-sonnet-4-5', 'claude-opus-4-1'][number % 2 + 1], (number % 997) / 1000, number % 5000, concat('ch', toString(number % 12))
    FROM numbers(${ROWS})`;
  const srv = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-archive-'));
  const out: string[] = ['## Archive before cleanup (issue 11)', ''];
  try {
    await srv.sql(insert);
    const until = archiveUntilSec(nowSec * 1000);
    const counts = await countExpiring({ url: srv.httpUrl }, until);
    const events = counts.find((c) => c.id === 'events')!;
    if (events.rows !== ROWS) throw new Error(`expected ${ROWS} expiring events, counted ${events.rows}`);

    // The bare engine: same schema, same rows, the archive's own statement written to a file by the engine.
    const bareDir = join(dir, 'bare');
    const bare = await openChdbStore(join(bareDir, 'db'));
    await applyMigrations(bare, migrationsDir());
    await bare.query(insert);
    const plan = planExport({ table: 'events', format: 'parquet', expiring: { days: events.days, untilSec: until } });
    const bareSql = plan.selectSql.replace('{ttl_days:UInt32}', String(events.days)).replace('{until:UInt32}', String(until));
    const bareFile = join(bareDir, 'events.parquet');
    const runs: Array<{ engineMs: number; oursMs: number; growth: number; rows: number; ourSize: number; engineSize: number }> = [];
    const loads = [loadavg()[0]!];
    for (let r = 0; r < RUNS; r++) {
      rmSync(bareFile, { force: true });
      const engineMs = await timeMs(() => bare.query(`${bareSql} INTO OUTFILE '${bareFile}' FORMAT Parquet`));
      const base = rssMiB(srv.proc.pid!);
      let peak = base;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(srv.proc.pid!))), 100);
      let files: Awaited<ReturnType<typeof archiveExpiring>> = [];
      const oursMs = await timeMs(async () => (files = await archiveExpiring({ url: srv.httpUrl }, [events], until, join(dir, `ours-${r}`))));
      clearInterval(sampler);
      const f = files[0]!;
      runs.push({ engineMs, oursMs, growth: peak - base, rows: f.rows, ourSize: statSync(f.out).size, engineSize: statSync(bareFile).size });
      loads.push(loadavg()[0]!);
    }
    await bare.close();
    const engineMs = median(runs.map((x) => x.engineMs));
    const oursMs = median(runs.map((x) => x.oursMs));
    const ratio = engineMs / oursMs;
    // The worst run's RSS growth: the target is a bound.
    const growth = Math.max(...runs.map((x) => x.growth));
    out.push(`Median of ${RUNS} interleaved runs (RSS growth: the largest); 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.`, '');
    out.push(table(['rows', 'Parquet MiB (ours / engine)', 'engine to file ms', 'archive through :8123 ms', 'rate vs engine', 'server RSS growth MiB', 'targets'],
      [[runs[0]!.rows, `${(runs[0]!.ourSize / 1048576).toFixed(1)} / ${(runs[0]!.engineSize / 1048576).toFixed(1)}`, Math.round(engineMs), Math.round(oursMs), ratio,
        growth, `${verdict(ratio >= 0.8)} (≥ 0.8×), ${verdict(growth <= 100)} (≤ 100 MB)`]]));
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(srv.dataDir, { recursive: true, force: true });
  }
  console.log(out.join('\n'));
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
