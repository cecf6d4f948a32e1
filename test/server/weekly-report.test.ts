/**
 * `npm run report` (dist/report-cli.js) for a known fortnight of two authors' data (ISO weeks
 * 2026-W47 and W48, several chapters and models, 429s and 529s): every number in the Markdown equals
 * what independent SQL gives for that week, author and the week before; `--all` covers both authors;
 * the HTML opens in headless Chromium with no request but the file itself, and shows its charts
 * (screenshot in .test-artifacts/report/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { repoRoot, startServer, type RunningServer } from '../support/server';
import { chromiumBin } from '../support/codeserver';
import { feedAuthor } from '../support/lifecycle-data';

const cli = join(repoRoot, 'dist', 'report-cli.js');
let srv: RunningServer;
let out: string;

before(async () => {
  srv = await startServer();
  out = mkdtempSync(join(tmpdir(), 'ct-report-'));
  await feedAuthor(srv, 'alice', 1);
  await feedAuthor(srv, 'bob', 2);
});
after(async () => {
  await srv?.stop();
  rmSync(srv.dataDir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, '--url', srv.httpUrl, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The Markdown's tables, by the heading above each: rows of cells (header and rule dropped). */
function tables(md: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let heading = '';
  for (const line of md.split('\n')) {
    if (line.startsWith('## ')) heading = line.slice(3);
    else if (line.startsWith('|') && !/^\|(-|:|\|)+$/.test(line.replace(/-+:?/g, '-'))) {
      const cells = line.slice(2, -2).split(' | ').map((c) => c.replace(/\\(.)/g, '$1'));
      if (!out.has(heading)) out.set(heading, []);
      out.get(heading)!.push(cells);
    }
  }
  for (const rows of out.values()) rows.shift(); // the header row
  return out;
}

async function tsv(sql: string, params: Record<string, string>): Promise<string[][]> {
  const text = (await srv.sql(sql, params)).trimEnd();
  return text === '' ? [] : text.split('\n').map((l) => l.split('\t'));
}

const SCOPE = `({all:UInt8} = 1 OR user_id = {user:String})`;
const W48 = { from: '2026-11-23', to: '2026-11-30' };
const W47 = { from: '2026-11-16', to: '2026-11-23' };
const IN = (w: { from: string; to: string }) => `timestamp >= toDateTime64('${w.from}', 3, 'UTC') AND timestamp < toDateTime64('${w.to}', 3, 'UTC') AND ${SCOPE}`;

function pctChange(a: number, b: number): string {
  if (b === 0) return a === 0 ? '0.0%' : 'new';
  const c = ((a - b) / b) * 100;
  return `${c > 0 ? '+' : ''}${c.toFixed(1)}%`;
}

async function checkReport(md: string, params: { all: string; user: string }): Promise<void> {
  const t = tables(md);
  const totalsSql = (w: typeof W48) => `SELECT round(sum(if(event_type = 'api_request', cost_usd, 0)), 4), countIf(event_type = 'api_request'), countIf(event_type = 'api_error'),
      countIf(event_type = 'api_retries_exhausted'), uniqExact(if(session_id = '', NULL, session_id)),
      sum(if(event_type = 'api_request', input_tokens, 0)), sum(if(event_type = 'api_request', output_tokens, 0)),
      sum(if(event_type = 'api_request', cache_read_tokens, 0)), sum(if(event_type = 'api_request', cache_creation_tokens, 0))
    FROM telemetry_events WHERE ${IN(w)}`;
  const [now] = await tsv(totalsSql(W48), params);
  const [prev] = await tsv(totalsSql(W47), params);
  const n = now!.map(Number);
  const p = prev!.map(Number);
  assert.ok(n[1]! > 0 && n[2]! > 0 && p[1]! > 0, 'the week has requests and errors, and so has the one before');
  const totals = new Map(t.get('Totals')!.map((r) => [r[0], r.slice(1)]));
  const labels = ['Cost (USD)', 'Requests', 'Errors', 'Retries exhausted', 'Sessions', 'Input tokens', 'Output tokens', 'Cache read tokens', 'Cache creation tokens'];
  labels.forEach((label, i) => {
    const fmt = (v: number) => (i === 0 ? v.toFixed(4) : String(v));
    assert.deepEqual(totals.get(label), [fmt(n[i]!), fmt(p[i]!), pctChange(n[i]!, p[i]!)], label);
  });
  const rate = (x: number[]) => x[2]! / (x[1]! + x[2]!);
  const d = (rate(n) - rate(p)) * 100;
  assert.deepEqual(totals.get('Error rate'), [`${(rate(n) * 100).toFixed(2)}%`, `${(rate(p) * 100).toFixed(2)}%`, `${d > 0 ? '+' : ''}${d.toFixed(2)} pp`]);

  const errs = await tsv(`SELECT toString(error_type) AS e, count() AS c FROM telemetry_events WHERE ${IN(W48)} AND event_type = 'api_error' GROUP BY e ORDER BY c DESC, e LIMIT 5`, params);
  assert.deepEqual(new Set(errs.map((r) => r[0])), new Set(['rate_limit_error', 'overloaded_error']), 'a 429 and a 529 in the week');
  assert.deepEqual(t.get('Top error types'), errs);

  const days = await tsv(`SELECT toString(d), round(sum(c), 4), sum(r) FROM (
      SELECT toDate(timestamp) AS d, if(event_type = 'api_request', cost_usd, 0) AS c, event_type = 'api_request' AS r FROM telemetry_events WHERE ${IN(W48)}
      UNION ALL SELECT toDate('${W48.from}') + number, 0, 0 FROM numbers(7)) GROUP BY d ORDER BY d`, params);
  assert.equal(days.length, 7);
  assert.deepEqual(t.get('Cost by day'), days.map(([day, c, r]) => [day!, Number(c).toFixed(4), r!]));

  const chapters = await tsv(`SELECT if(chapter = '', '(none)', chapter) AS ch, round(sum(cost_usd), 4) AS c, sum(token_count), count()
      FROM events_attributed WHERE ${IN(W48)} AND event_type = 'api_request' GROUP BY ch ORDER BY sum(cost_usd) DESC, ch LIMIT 10`, params);
  assert.ok(chapters.length >= 3, 'several chapters');
  assert.deepEqual(t.get('Top chapters by cost'), chapters.map(([ch, c, tok, r]) => [ch!, Number(c).toFixed(4), tok!, r!]));

  const models = await tsv(`SELECT toString(model) AS m, round(sum(cost_usd), 4), count(), sum(token_count)
      FROM telemetry_events WHERE ${IN(W48)} AND event_type = 'api_request' GROUP BY m ORDER BY sum(cost_usd) DESC, m`, params);
  assert.equal(models.length, 3, 'three models');
  assert.deepEqual(t.get('Cost by model'), models.map(([m, c, r, tok]) => [m!, Number(c).toFixed(4), r!, tok!]));
}

test('Markdown for one author: every number equals SQL', async () => {
  const r = await run(['--user', 'alice', '--week', '2026-W48', '--format', 'md', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(out, '2026-W48.md'), 'utf8');
  assert.match(md, /^# Weekly report 2026-W48\n/);
  assert.match(md, / · alice · compared with 2026-W47/);
  await checkReport(md, { all: '0', user: 'alice' });
});

test('Markdown for everyone (--all) covers both authors', async () => {
  const dir = join(out, 'all');
  const r = await run(['--all', '--week', '2026-W48', '--format', 'md', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(dir, '2026-W48.md'), 'utf8');
  await checkReport(md, { all: '1', user: '' });
  const requests = (text: string) => tables(text).get('Totals')!.find((row) => row[0] === 'Requests')![1];
  const alice = requests(readFileSync(join(out, '2026-W48.md'), 'utf8'));
  const all = requests(md);
  assert.ok(Number(all) > Number(alice), `everyone's requests (${all}) exceed alice's (${alice})`);
});

test('usage errors: bad week, both --user and --all, bad format', async () => {
  for (const args of [['--week', '2026-W54', '--format', 'md'], ['--week', '2026-48', '--format', 'md'], ['--user', 'a', '--all', '--format', 'md'], ['--format', 'pdf']]) {
    const r = await run([...args, '--out', join(out, 'bad')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('HTML opens in headless Chromium with no request but itself, and shows its charts', async () => {
  const r = await run(['--user', 'alice', '--week', '2026-W48', '--format', 'html', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(out, '2026-W48.html');
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /(src|href)\s*=|url\(|@import|<script/i, 'nothing that could load');
  const browser = await chromium.launch({ executablePath: chromiumBin, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    const url = pathToFileURL(file).href;
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    assert.deepEqual(requests, [url]);
    const charts = await page.locator('svg').count();
    assert.equal(charts, 4, 'cost by day, chapters, models, error types');
    const bars = await page.locator('svg rect.bar').count();
    assert.ok(bars >= 7 + 3 + 3, `bars drawn: ${bars}`);
    const bar = await page.locator('svg rect.bar').first().boundingBox();
    assert.ok(bar && bar.height > 0, 'charts are laid out');
    const dir = join(repoRoot, '.test-artifacts', 'report');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, '2026-W48.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
