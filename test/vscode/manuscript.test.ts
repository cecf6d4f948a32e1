// Manuscript progress in a real VS Code (code-server + Chromium): a book that is a git repository built commit
// by commit, real Claude Code runs tagged with its chapters, and the Chapters panel's words, cost per 1,000 words
// and words added equal hand counts and SQL over the same store. An edit on disk is counted again (the
// FileSystemWatcher marks the file; the worker recounts it) when the panel reloads. A chapter's trend shows its
// cost per day beside its words added per day.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runClaude } from '../support/claude-cli';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { closeVSCodeAndStack, freeStackPorts, localStackSettings, stackSql, startCollectionFromStatusBar } from '../support/local-stack-vscode';
import { runCommand, tableRows, webviewFrame } from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const AUTHOR = 'words-author';
const root = mkdtempSync(join(tmpdir(), 'ct-manuscript-e2e-'));
const book = join(root, 'book');

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };

/** This suite's waits are longer than the shared default: servers restart under it. */
const eventuallyLong = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => eventually(what, fn, timeoutMs);

function git(args: string[], whenMs?: number): void {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  if (whenMs !== undefined) Object.assign(env, { GIT_AUTHOR_DATE: `${Math.floor(whenMs / 1000)} +0000`, GIT_COMMITTER_DATE: `${Math.floor(whenMs / 1000)} +0000` });
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: book, env, stdio: 'pipe' });
}
function write(rel: string, text: string): void {
  mkdirSync(dirname(join(book, rel)), { recursive: true });
  writeFileSync(join(book, rel), text);
}
const daysAgo = (n: number) => Date.now() - n * 86_400_000;

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);

async function claude(chapter: string): Promise<void> {
  const r = await runClaude({
    protocol: 'http/json', endpoint: `http://127.0.0.1:${ports.otlpHttp}`, apiUrl: fake.url, prompt: 'say hi',
    resourceAttributes: { user_id: AUTHOR, chapter }, userId: AUTHOR,
  });
  assert.equal(r.code, 0, r.stderr);
}

describe('manuscript progress in a real VS Code', () => {
  before(async () => {
    ports = await freeStackPorts();
    mkdirSync(book, { recursive: true });
    git(['init', '-q']);
    // ch01: 5 words three days ago, 12 now (7 added yesterday); ch02: 4 words (front matter and code left out).
    write('ch01/draft.md', '# One two\n\nthree four five\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'start'], daysAgo(3));
    write('ch01/draft.md', '# One two\n\nthree four five six seven eight nine ten eleven twelve\n');
    write('ch02/intro.mdx', '---\ntitle: x\n---\nimport A from "a";\n\nalpha <A>beta</A> gamma delta\n\n```js\nno words here\n```\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'more'], daysAgo(1));
    fake = await startFakeAnthropic();
    vs = await launchVSCode({
      workspace: book, extensionDevelopmentPath: repoRoot, name: 'manuscript',
      settings: {
        'chapterTelemetry.userId': AUTHOR,
        ...localStackSettings(ports, join(root, 'data')),
      },
    });
  });

  after(() => closeVSCodeAndStack(vs, { stopCollection: true, fake, root }));

  test('the Chapters panel shows words, cost per 1,000 words and words added; they equal hand counts and SQL', async () => {
    const page = vs.page;
    await startCollectionFromStatusBar(page);
    await claude('ch01');
    await claude('ch02');
    await eventuallyLong('both runs stored', async () => (Number(await sql(`SELECT uniqExact(chapter) FROM events_attributed WHERE event_type = 'api_request' AND user_id = {u:String}`, { u: AUTHOR })) === 2 ? true : undefined));

    await runCommand(page, 'Chapter Telemetry: Show Chapters');
    const f = await webviewFrame(page, 'table[data-table="complexity"] td[data-col="words"]', 90_000);
    const rows = await eventuallyLong('both chapters in the table', async () => {
      const r = await tableRows(f, 'complexity');
      return r.length === 2 ? r : undefined;
    });
    const by = Object.fromEntries(rows.map((r) => [r.chapter, r]));
    assert.deepEqual([by.ch01?.words, by.ch02?.words], ['12', '4']);
    assert.deepEqual([by.ch01?.words_added, by.ch02?.words_added], ['12', '4'], 'both commits are inside the 30-day range');
    for (const [chapter, words] of [['ch01', 12], ['ch02', 4]] as const) {
      const perK = Number(await sql(`SELECT sum(cost_usd) * 1000 / {w:Float64} FROM events_attributed WHERE event_type = 'api_request' AND user_id = {u:String} AND chapter = {c:String}`, { w: String(words), u: AUTHOR, c: chapter }));
      assert.ok(perK > 0);
      assert.ok(Math.abs(Number(by[chapter]!.cost_per_1000_words) - perK) < 1e-9, `${chapter}: ${by[chapter]!.cost_per_1000_words} vs SQL ${perK}`);
    }
    assert.equal(await f.locator('[data-metric="progress-note"]').getAttribute('data-git'), 'true');
    const perDay = await tableRows(f, 'words-per-day');
    assert.deepEqual(perDay.map((r) => [r.chapter, r.added]), [['ch01', '5'], ['ch01', '7'], ['ch02', '4']]);
    await vs.screenshot('01-chapters-words');
  });

  test('a chapter\'s trend puts its cost per day beside the words added per day', async () => {
    const f = await webviewFrame(vs.page, 'table[data-table="complexity"]', 30_000);
    await f.locator('table[data-table="complexity"] button.link', { hasText: 'ch01' }).first().click();
    await f.locator('table[data-table="chapter-trend"]').waitFor({ timeout: 30_000 });
    const rows = await tableRows(f, 'chapter-trend');
    const dayKey = (ms: number) => { const d = new Date(ms); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
    const words = Object.fromEntries(rows.filter((r) => r.words !== '0').map((r) => [r.day, Number(r.words)]));
    assert.deepEqual(words, { [dayKey(daysAgo(3))]: 5, [dayKey(daysAgo(1))]: 7 });
    const cost = rows.reduce((s, r) => s + Number(r.cost), 0);
    const sqlCost = Number(await sql(`SELECT sum(cost_usd) FROM events_attributed WHERE event_type = 'api_request' AND user_id = {u:String} AND chapter = 'ch01'`, { u: AUTHOR }));
    assert.ok(sqlCost > 0 && Math.abs(cost - sqlCost) < 1e-9, `trend cost ${cost} vs SQL ${sqlCost}`);
    await vs.screenshot('02-chapter-trend');
  });

  test('an edit on disk is counted again when the panel reloads; the other chapter keeps its count', async () => {
    const page = vs.page;
    write('ch02/intro.mdx', '---\ntitle: x\n---\nalpha beta gamma delta epsilon zeta\n');
    const f = await webviewFrame(page, 'table[data-table="complexity"]', 30_000);
    // Changing the range reloads the panel; the watcher has marked the file, so its count is new.
    await eventuallyLong('ch02 counted again', async () => {
      await f.locator('select[data-control="range"]').selectOption('7');
      await f.locator('select[data-control="range"]').selectOption('30');
      const r = await tableRows(f, 'complexity');
      return r.find((x) => x.chapter === 'ch02')?.words === '6' ? true : undefined;
    });
    assert.equal((await tableRows(f, 'complexity')).find((x) => x.chapter === 'ch01')?.words, '12');
  });
});
