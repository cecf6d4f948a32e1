/**
 * `npm run export` (dist/export-cli.js) against the real engine: every table in every format parses
 * (CSV with csv-parse, JSON Lines line by line, Parquet read back by a chDB session in this process)
 * and holds the rows and sums SQL gives for the same table and range; progress is reported; a
 * SIGINT halfway leaves no file under the target name (and no .partial).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runNodeScript, sqlOver, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { eventually } from '../support/otlp';
import { feedAuthor } from '../support/lifecycle-data';
import { close, readBack } from '../support/export-check';

const cli = join(repoRoot, 'dist', 'export-cli.js');
let srv: RunningServer;
let out: string;

serverPerFile(async (s) => {
  srv = s;
  out = mkdtempSync(join(tmpdir(), 'ct-export-'));
  await feedAuthor(srv, 'alice', 1);
  await feedAuthor(srv, 'bob', 2);
  // Export reads anonymously (a reader session); expected figures are read the same way.
  for (const table of ['telemetry_events', 'chapter_focus', 'otel_logs']) {
    await eventually(async () => (await srv.sql(`SELECT count() FROM ${table}`)) === (await sqlOver(srv.httpUrl, `SELECT count() FROM ${table}`)),
      () => `${table}: reader and writer disagree`);
  }
});
after(async () => {
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNodeScript(cli, ['--url', srv.httpUrl, ...args]);
}

/** Per table: the column summed, and SQL giving rows + sum of exactly what the export holds. */
const TABLES: Record<string, { column: string; sql: string }> = {
  events: { column: 'cost_usd', sql: 'SELECT count(), sum(cost_usd) FROM telemetry_events' },
  focus: { column: 'timestamp', sql: 'SELECT count(), 0 FROM chapter_focus' },
  sessions: { column: 'cost_usd', sql: 'SELECT count(), sum(c) FROM (SELECT sum(cost_usd) AS c FROM session_summaries GROUP BY user_id, session_id)' },
  daily: { column: 'input_tokens', sql: 'SELECT count(), sum(t) FROM (SELECT sum(input_tokens) AS t FROM daily_metrics GROUP BY day, user_id, chapter, model)' },
  otel_logs: { column: 'SeverityNumber', sql: 'SELECT count(), sum(SeverityNumber) FROM otel_logs' },
  otel_metrics_sum: { column: 'Value', sql: 'SELECT count(), sum(Value) FROM otel_metrics_sum' },
  otel_metrics_gauge: { column: 'Value', sql: 'SELECT count(), sum(Value) FROM otel_metrics_gauge' },
  otel_metrics_histogram: { column: 'Sum', sql: 'SELECT count(), sum(Sum) FROM otel_metrics_histogram' },
  otel_metrics_exponential_histogram: { column: 'Sum', sql: 'SELECT count(), sum(Sum) FROM otel_metrics_exponential_histogram' },
  otel_metrics_summary: { column: 'Sum', sql: 'SELECT count(), sum(Sum) FROM otel_metrics_summary' },
  otel_traces: { column: 'Duration', sql: 'SELECT count(), sum(Duration) FROM otel_traces' },
};

async function expected(table: string): Promise<[number, number]> {
  const [c, s] = (await sqlOver(srv.httpUrl, TABLES[table]!.sql)).trim().split('\t');
  return [Number(c), Number(s)];
}

describe('every table in every format', () => {
  for (const table of Object.keys(TABLES)) {
    for (const format of ['csv', 'jsonl', 'parquet']) {
      test(`${table} as ${format}`, async () => {
        const [rows, sum] = await expected(table);
        assert.ok(rows > 0, `the test data fills ${table}`);
        const file = join(out, `${table}.${format}`);
        const r = await run(['--table', table, '--format', format, '--out', file]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`exported ${rows} rows`));
        assert.match(r.stderr, new RegExp(`progress rows=0 bytes=0 total_rows=${rows}`));
        assert.ok(!existsSync(`${file}.partial`));
        const [gotRows, gotSum] = readBack(file, format, TABLES[table]!.column);
        assert.equal(gotRows, rows);
        assert.ok(close(gotSum, sum), `${TABLES[table]!.column}: file ${gotSum} vs SQL ${sum}`);
      });
    }
  }
});

test('a day range exports exactly the rows SQL finds in it', async () => {
  const [c, s] = (await srv.sql(`SELECT count(), sum(cost_usd) FROM telemetry_events
    WHERE toDate(timestamp, 'UTC') BETWEEN '2026-11-18' AND '2026-11-24'`)).trim().split('\t').map(Number);
  assert.ok(c! > 0 && c! < Number((await srv.sql('SELECT count() FROM telemetry_events')).trim()));
  const file = join(out, 'range.csv');
  const r = await run(['--table', 'events', '--from', '2026-11-18', '--to', '2026-11-24', '--format', 'csv', '--out', file]);
  assert.equal(r.code, 0, r.stderr);
  const [rows, sum] = readBack(file, 'csv', 'cost_usd');
  assert.equal(rows, c);
  assert.ok(close(sum, s!));
});

test('a table outside the list, a bad day or format is a usage error and writes nothing', async () => {
  for (const args of [
    ['--table', 'system.users', '--format', 'csv'],
    ['--table', 'events; DROP TABLE otel_logs', '--format', 'csv'],
    ['--table', 'events', '--format', 'xml'],
    ['--table', 'events', '--format', 'csv', '--from', "2026-11-01' OR 1=1"],
    ['--table', 'events', '--format', 'csv', '--from', '2026-02-30'],
  ]) {
    const file = join(out, 'bad.csv');
    const r = await run([...args, '--out', file]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(!existsSync(file));
  }
  assert.ok(Number((await srv.sql('SELECT count() FROM otel_logs')).trim()) > 0);
});

test('an unknown or valueless flag is a usage error: the usage on stderr, exit 2, nothing written', async () => {
  for (const args of [['--table', 'events', '--format', 'csv', '--bogus'], ['--format', 'csv', '--table']]) {
    const file = join(out, 'bad.csv');
    const r = await run([...args, '--out', file]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: npm run export/);
    assert.ok(!existsSync(file));
  }
});

test('--help prints the usage and the tables on stdout and exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: npm run export -- .*\ntables: .*\bevents\b/s);
  assert.equal(r.stderr, '');
});

for (const format of ['csv', 'parquet']) {
  test(`SIGINT halfway (${format}): exit 130, nothing under the target name, no .partial, no server temp file left`, async () => {
    // Enough raw rows that the export is still streaming when the first progress report (per MiB) arrives.
    if (Number(await srv.sql("SELECT count() FROM otel_logs WHERE ServiceName = 'bulk'")) === 0) {
      await srv.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, SeverityNumber)
        SELECT toDateTime64('2026-11-20 10:00:00', 9) + toIntervalMillisecond(number), 'bulk', concat(repeat('x', 200), toString(cityHash64(number))), number % 24 FROM numbers(600000)`);
    }
    const dir = mkdtempSync(join(out, 'cancel-'));
    const file = join(dir, `logs.${format}`);
    const p = spawn(process.execPath, [cli, '--url', srv.httpUrl, '--table', 'otel_logs', '--format', format, '--out', file]);
    let stderr = '';
    let signalled = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      // A report with bytes means they are flowing into the .partial file.
      if (!signalled && /progress rows=\d+ bytes=[1-9]/.test(stderr)) {
        signalled = true;
        assert.ok(existsSync(`${file}.partial`), 'streaming into the partial file');
        p.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
    assert.ok(signalled, `never saw progress:\n${stderr}`);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /export cancelled/);
    assert.deepEqual(readdirSync(dir), []);
    const tmp = join(srv.dataDir, 'tmp-results');
    // Only the server's idle named pipes (empty, kept for the next result) may stay.
    const left = () => (existsSync(tmp) ? readdirSync(tmp).filter((f) => !lstatSync(join(tmp, f)).isFIFO()) : []);
    await eventually(async () => left().length === 0, () => `left in ${tmp}: ${left().join(', ')}`);
  });
}
