// `npm run report -- --workspace DIR` (dist/report-cli.js) against the real embedded server: the book's
// .vscode/settings.json (JSON with comments) sets a daily and a per-chapter limit, its files hold known word
// counts; the report states the budget now ("$1.50 of $1.50 today (over)") and each chapter's words and cost per
// 1,000 words, equal to SQL over the same store.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isoWeekOf } from '../../src/core/report/iso-week';
import { eventually, logsRequest, postOtlp } from '../support/otlp';
import { repoRoot, runNodeScript, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';

const cli = join(repoRoot, 'dist', 'report-cli.js');
const root = mkdtempSync(join(tmpdir(), 'ct-report-ws-'));
const book = join(root, 'book');
const out = join(root, 'out');
let srv: RunningServer;

serverPerFile((s) => (srv = s));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNodeScript(cli, ['--url', srv.httpUrl, ...args]);
}

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(book, rel)), { recursive: true });
  writeFileSync(join(book, rel), text);
}

test('the report with --workspace states the budget now and cost per 1,000 words equal to SQL', async () => {
  const t = Date.now() - 1000;
  for (const [i, [chapter, cost]] of ([['ch01', 0.6], ['ch02', 0.9]] as const).entries()) {
    const body = logsRequest([{
      name: 'api_request', timeNanos: (BigInt(t) * 1_000_000n).toString(),
      attributes: { 'session.id': `s${i}`, 'event.timestamp': new Date(t).toISOString(), chapter, model: 'claude-sonnet-4-5', cost_usd: cost, input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_creation_tokens: 0, duration_ms: '10' },
    }], { 'service.name': 'claude-code', user_id: 'alice' });
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', JSON.stringify(body), 'application/json')).status, 200);
  }
  await eventually(async () => Number(await srv.sql(`SELECT count() FROM telemetry_events WHERE event_type = 'api_request'`)) === 2, () => 'events stored');

  write('.vscode/settings.json', '{\n  // the book\'s limits\n  "chapterTelemetry.budget.dailyUsd": 1.5,\n  "chapterTelemetry.budget.chapterUsd": { "^ch02$": 0.5 },\n}\n');
  write('ch01/a.md', '---\ntitle: A\n---\n# One two three\n\nfour five six seven eight nine ten eleven twelve\n');
  write('ch02/b.adoc', '= Alpha beta\n:toc:\n\ngamma delta epsilon zeta\n');
  write('node_modules/x/readme.md', 'not part of the book at all\n');

  const week = isoWeekOf(Date.now()).id;
  const r = await run(['--user', 'alice', '--week', week, '--format', 'md', '--out', out, '--workspace', book]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(out, `${week}.md`), 'utf8');
  assert.match(md, /## Budget \(now\)\n\nBudget reached\./);
  assert.ok(md.includes('- $1.50 of $1.50 today (over)'), md);
  assert.ok(md.includes('- $0.90 of $0.50 for chapter ch02 (over)'), md);

  const section = md.slice(md.indexOf('## Words and cost per 1,000 words'));
  const rows = section.split('\n').filter((l) => /^\| ch0/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const byChapter = Object.fromEntries(rows.map(([c, cost, words, perK]) => [c, { cost, words: Number(words), perK: Number(perK) }]));
  assert.deepEqual([byChapter.ch01?.words, byChapter.ch02?.words], [12, 6]);
  for (const [chapter, words] of [['ch01', 12], ['ch02', 6]] as const) {
    const sql = Number(await srv.sql(`SELECT round(sum(cost_usd) * 1000 / {w:Float64}, 4) FROM events_attributed WHERE event_type = 'api_request' AND user_id = 'alice' AND chapter = {c:String}`, { w: String(words), c: chapter }));
    assert.equal(byChapter[chapter]!.perK, sql, `${chapter}: report ${byChapter[chapter]!.perK} vs SQL ${sql}`);
  }

  // Without --workspace the report has no such sections (the option adds, changes nothing else).
  const plain = await run(['--user', 'alice', '--week', week, '--format', 'md', '--out', join(out, 'plain')]);
  assert.equal(plain.code, 0, plain.stderr);
  const plainMd = readFileSync(join(out, 'plain', `${week}.md`), 'utf8');
  assert.doesNotMatch(plainMd, /Budget \(now\)|cost per 1,000 words/);
  assert.equal(md.slice(0, md.indexOf('## Budget (now)')).trimEnd(), plainMd.trimEnd());

  const html = await run(['--user', 'alice', '--week', week, '--format', 'html', '--out', out, '--workspace', book]);
  assert.equal(html.code, 0, html.stderr);
  const page = readFileSync(join(out, `${week}.html`), 'utf8');
  assert.match(page, /<h2>Words and cost per 1,000 words<\/h2>/);
  assert.ok(page.includes('<li>$1.50 of $1.50 today (over)</li>'));
});
