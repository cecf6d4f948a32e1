// Disk bytes per event after merges, per table and in total, for N synthetic events shaped like
// Claude Code's (catalog-2.1.197.json): sessions of prompts, each with a user_prompt, API
// requests, an assistant_response and sometimes a tool decision/result or an API error.
// Prints one Markdown section (scripts/bench.mjs). N: CT_BENCH_STORAGE_EVENTS (default 200000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomUUID, randomBytes } from 'node:crypto';
import { openChdbStore } from '../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../src/server/migrations';

const N = Number(process.env['CT_BENCH_STORAGE_EVENTS'] ?? 200_000);
const TARGET = 50;
const USERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dan@example.com'];
const CHAPTERS = Array.from({ length: 12 }, (_, i) => `ch${String(i + 1).padStart(2, '0')}`);
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-8', 'claude-haiku-4-5'];

/** Deterministic pseudo-random numbers, so runs compare. */
let seed = 42;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

function* events(): Generator<string> {
  let made = 0;
  let t = Date.now() - 30 * 86_400_000;
  while (made < N) {
    const user = pick(USERS);
    const chapter = pick(CHAPTERS);
    const session = randomUUID();
    const resource = { 'service.name': 'claude-code', 'service.version': '2.1.197', user_id: user, chapter, 'user.id': randomBytes(32).toString('hex'), 'host.arch': 'amd64', 'os.type': 'linux' };
    const common = { chapter, 'user.id': resource['user.id'], 'session.id': session, 'terminal.type': 'vscode', 'app.version': '2.1.197', user_id: user };
    let seq = 0;
    const prompts = 1 + Math.floor(rnd() * 8);
    for (let p = 0; p < prompts && made < N; p++) {
      const prompt = randomUUID();
      const rec = (name: string, attrs: Record<string, string>): string => {
        t += Math.floor(rnd() * 4000);
        made++;
        const iso = new Date(t).toISOString();
        return JSON.stringify({
          Timestamp: `${BigInt(t) * 1_000_000n}`, ServiceName: 'claude-code', Body: `claude_code.${name}`,
          ResourceAttributes: resource, ScopeName: 'com.anthropic.claude_code.events', ScopeVersion: '2.1.197',
          LogAttributes: { ...common, 'event.name': name, 'event.timestamp': iso, 'event.sequence': String(seq++), 'prompt.id': prompt, ...attrs },
        });
      };
      yield rec('user_prompt', { prompt_length: String(10 + Math.floor(rnd() * 400)), prompt: '<REDACTED>' });
      const calls = 1 + Math.floor(rnd() * 3);
      for (let c = 0; c < calls && made < N; c++) {
        const model = pick(MODELS);
        const reqId = `req_${randomBytes(12).toString('base64url')}`;
        if (rnd() < 0.05) {
          yield rec('api_error', { model, error: 'rate limited', status_code: '429', duration_ms: String(Math.floor(rnd() * 300)), attempt: '1', request_id: reqId });
          continue;
        }
        const i = Math.floor(rnd() * 5000), o = Math.floor(rnd() * 1500), cr = Math.floor(rnd() * 20000), cc = Math.floor(rnd() * 3000);
        yield rec('api_request', { model, input_tokens: String(i), output_tokens: String(o), cache_read_tokens: String(cr), cache_creation_tokens: String(cc),
          cost_usd: String((i * 3 + o * 15 + cr * 0.3 + cc * 3.75) / 1e6), duration_ms: String(Math.floor(rnd() * 9000)), request_id: reqId, speed: 'normal', query_source: 'repl_main_thread' });
        if (made < N) yield rec('assistant_response', { model, response_length: String(Math.floor(rnd() * 2000)), response: '<REDACTED>', request_id: reqId });
        if (rnd() < 0.3 && made + 1 < N) {
          const tool = pick(['Bash', 'Read', 'Edit', 'Write', 'Grep']);
          yield rec('tool_decision', { tool_name: tool, decision: 'accept', source: 'config', tool_use_id: `toolu_${randomBytes(8).toString('hex')}` });
          const ok = rnd() < 0.9;
          yield rec('tool_result', { tool_name: tool, success: ok ? 'true' : 'false', duration_ms: String(Math.floor(rnd() * 2000)),
            ...(ok ? {} : { error_type: 'ShellError', error: 'Shell command failed' }), tool_result_size_bytes: String(Math.floor(rnd() * 5000)) });
        }
      }
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-bench-storage-'));
  const store = await openChdbStore(dir);
  try {
    await applyMigrations(store, migrationsDir());
    let batch: string[] = [];
    for (const line of events()) {
      batch.push(line);
      if (batch.length === 20_000) {
        await store.insertJsonEachRow('otel_logs', Buffer.from(batch.join('\n')));
        batch = [];
      }
    }
    if (batch.length > 0) await store.insertJsonEachRow('otel_logs', Buffer.from(batch.join('\n')));
    const tables = ['otel_logs', 'telemetry_events', 'session_summaries', 'daily_metrics'];
    for (const t of tables) await store.query(`OPTIMIZE TABLE default.${t} FINAL`);
    const rows = (await store.query(
      `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = 'default' AND active AND table IN (${tables.map((t) => `'${t}'`).join(', ')}) GROUP BY table FORMAT JSONEachRow`,
      { settings: { output_format_json_quote_64bit_integers: '0' } },
    )).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { table: string; rows: number; bytes: number });
    const eventRows = rows.find((r) => r.table === "telemetry_events")?.rows ?? 0;
    const lines = [
      '## Storage: disk bytes per event after merges',
      '',
      `${N} synthetic Claude-Code-shaped log records (${eventRows} in telemetry_events), all merged (OPTIMIZE FINAL), chDB.`,
      `Baseline: the raw \`otel_logs\` table holding the same records. Target: telemetry_events ≤ ${TARGET} bytes/event.`,
      '',
      '| table | rows | bytes on disk | bytes / event | vs otel_logs |',
      '|---|---:|---:|---:|---:|',
    ];
    const raw = rows.find((r) => r.table === 'otel_logs')?.bytes ?? 0;
    let total = 0;
    for (const t of tables) {
      const r = rows.find((x) => x.table === t) ?? { rows: 0, bytes: 0 };
      total += r.bytes;
      lines.push(`| ${t} | ${r.rows} | ${r.bytes} | ${(r.bytes / N).toFixed(1)} | ${raw ? (r.bytes / raw).toFixed(3) : '–'} |`);
    }
    lines.push(`| **total** | | ${total} | ${(total / N).toFixed(1)} | ${raw ? (total / raw).toFixed(3) : '–'} |`);
    const ev = rows.find((x) => x.table === 'telemetry_events')?.bytes ?? 0;
    lines.push('', `telemetry_events: ${(ev / N).toFixed(1)} bytes/event — ${ev / N <= TARGET ? 'meets' : 'misses'} the ≤ ${TARGET} target.`);
    console.log(lines.join('\n'));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
