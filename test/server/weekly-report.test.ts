/**
 * `npm run report` (dist/report-cli.js) for a known fortnight of two authors' data (ISO weeks
 * 2026-W47 and W48, several chapters and models, 429s and 529s): every number in the Markdown equals
 * what independent SQL gives for that week, author and the week before; `--all` covers both authors;
 * the HTML opens in headless Chromium with no request but the file itself, and shows its charts
 * (screenshot in .test-artifacts/report/).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { repoRoot, runNodeScript, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { chromiumBin } from '../support/codeserver';
import { feedAuthor } from '../support/lifecycle-data';
import { checkReport, tables } from '../support/report-check';

const W48 = { from: '2026-11-23', to: '2026-11-30' };
const W47 = { from: '2026-11-16', to: '2026-11-23' };

const cli = join(repoRoot, 'dist', 'report-cli.js');
let srv: RunningServer;
let out: string;

serverPerFile(async (s) => {
  srv = s;
  out = mkdtempSync(join(tmpdir(), 'ct-report-'));
  await feedAuthor(srv, 'alice', 1);
  await feedAuthor(srv, 'bob', 2);
});
after(async () => {
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNodeScript(cli, ['--url', srv.httpUrl, ...args]);
}

test('Markdown for one author: every number equals SQL', async () => {
  const r = await run(['--user', 'alice', '--week', '2026-W48', '--format', 'md', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(out, '2026-W48.md'), 'utf8');
  assert.match(md, /^# Weekly report 2026-W48\n/);
  assert.match(md, / · alice · compared with 2026-W47/);
  await checkReport(srv, md, { all: '0', user: 'alice' }, W48, W47);
});

test('Markdown for everyone (--all) covers both authors', async () => {
  const dir = join(out, 'all');
  const r = await run(['--all', '--week', '2026-W48', '--format', 'md', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(join(dir, '2026-W48.md'), 'utf8');
  await checkReport(srv, md, { all: '1', user: '' }, W48, W47);
  const requests = (text: string) => tables(text).get('Totals')!.find((row) => row[0] === 'Requests')![1];
  const alice = requests(readFileSync(join(out, '2026-W48.md'), 'utf8'));
  const all = requests(md);
  assert.ok(Number(all) > Number(alice), `everyone's requests (${all}) exceed alice's (${alice})`);
});

test('usage errors: bad week, both --user and --all, bad format, unknown or valueless flag', async () => {
  for (const args of [['--week', '2026-W54', '--format', 'md'], ['--week', '2026-48', '--format', 'md'], ['--user', 'a', '--all', '--format', 'md'], ['--format', 'pdf'],
    ['--format', 'md', '--bogus'], ['--format', 'md', '--week']]) {
    const r = await run([...args, '--out', join(out, 'bad')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: npm run report/);
  }
});

test('--help prints the usage on stdout and exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: npm run report -- .*--team-bundle-file FILE/s);
  assert.equal(r.stderr, '');
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
