// Cost per 1,000 words and tokens per word added, end to end without VS Code: known requests go into the real
// embedded server over OTLP; a book is a git repository built commit by commit with known texts; the bundled
// worker (dist/manuscript-worker.js, what the extension runs off its thread) counts the files and reads the
// history; the ratios the Chapters panel shows equal the same figures computed by SQL over the same store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadChapters, midnightMs } from '../../src/core/analytics';
import { DEFAULT_CHAPTER_PATTERNS } from '../../src/core/chapter';
import { manuscriptProgress, wordsByChapter, type FileChange } from '../../src/core/manuscript';
import { httpRunner, type HttpRunner } from '../../src/vscode/webviews/connection';
import { eventually, logsRequest, postOtlp } from '../support/otlp';
import { repoRoot, startServer, type RunningServer } from '../support/server';

const root = mkdtempSync(join(tmpdir(), 'ct-progress-'));
const book = join(root, 'book');
const now = new Date();
const at = (daysBack: number) => midnightMs(now, daysBack) + 12 * 3_600_000;

function git(args: string[], when?: number): void {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  if (when !== undefined) Object.assign(env, { GIT_AUTHOR_DATE: `${Math.floor(when / 1000)} +0000`, GIT_COMMITTER_DATE: `${Math.floor(when / 1000)} +0000` });
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: book, env, stdio: 'pipe' });
}
function write(rel: string, text: string): void {
  mkdirSync(dirname(join(book, rel)), { recursive: true });
  writeFileSync(join(book, rel), text);
}

/** One request to the bundled worker. */
function ask<T>(w: Worker, msg: object): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: { ok: boolean; result: T; error?: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
    w.postMessage({ id: 1, ...msg });
  });
}

describe('cost per 1,000 words and tokens per word added', () => {
  let server: RunningServer;
  let run: HttpRunner;
  let worker: Worker;
  before(async () => {
    server = await startServer();
    run = httpRunner(server.httpUrl);
    worker = new Worker(join(repoRoot, 'dist', 'manuscript-worker.js'));
  });
  after(async () => {
    await worker?.terminate();
    await run?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('the panel\'s ratios equal SQL over the same data', async () => {
    // Requests: ch01 $0.40 + $0.35 (tokens 1500 + 900), ch02 $1.20 (tokens 2400), and one of bob's that must not count.
    const reqs = [
      { user: 'alice', t: at(2), chapter: 'ch01', cost: 0.4, input: 1000, output: 500 },
      { user: 'alice', t: at(1), chapter: 'ch01', cost: 0.35, input: 600, output: 300 },
      { user: 'alice', t: at(1), chapter: 'ch02', cost: 1.2, input: 2000, output: 400 },
      { user: 'bob', t: at(1), chapter: 'ch01', cost: 5, input: 1, output: 1 },
    ];
    for (const [i, r] of reqs.entries()) {
      const body = logsRequest([{
        name: 'api_request', timeNanos: (BigInt(r.t) * 1_000_000n).toString(),
        attributes: { 'session.id': `s${i}`, 'event.timestamp': new Date(r.t).toISOString(), chapter: r.chapter, model: 'claude-sonnet-4-5', cost_usd: r.cost, input_tokens: r.input, output_tokens: r.output, cache_read_tokens: 0, cache_creation_tokens: 0, duration_ms: '10' },
      }], { 'service.name': 'claude-code', user_id: r.user });
      assert.equal((await postOtlp(server.otlpHttpUrl, 'logs', JSON.stringify(body), 'application/json')).status, 200);
    }
    await eventually(async () => Number(await server.sql(`SELECT count() FROM telemetry_events WHERE event_type = 'api_request'`)) === reqs.length, () => 'events stored');

    // The book: ch01 written over two commits (8 then 14 words), ch02 once (6 words, code block left out); an old commit before the range.
    mkdirSync(book, { recursive: true });
    git(['init', '-q']);
    write('ch01/a.md', 'one two three four\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'old'], at(60));
    write('ch01/a.md', 'one two three four five six seven eight\n');
    git(['commit', '-qam', 'more'], at(2));
    write('ch01/b.md', '---\ntitle: B\n---\nnine ten eleven twelve thirteen fourteen\n');
    write('ch02/c.mdx', 'import X from "y";\n\nalpha beta <X>gamma</X> delta epsilon zeta\n\n```\nnot words\n```\n');
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'today'], at(1));

    const files = ['ch01/a.md', 'ch01/b.md', 'ch02/c.mdx'].map((rel) => ({ abs: join(book, rel), rel }));
    const counted = await ask<{ rel: string; chapter: string; words: number }[]>(worker, { op: 'count', files, patterns: [...DEFAULT_CHAPTER_PATTERNS] });
    assert.deepEqual(counted.map((c) => [c.rel, c.chapter, c.words]), [['ch01/a.md', 'ch01', 8], ['ch01/b.md', 'ch01', 6], ['ch02/c.mdx', 'ch02', 6]]);
    const words = Object.fromEntries(wordsByChapter(counted.map((c) => ({ path: c.rel, chapter: c.chapter, words: c.words }))));
    const changes = await ask<FileChange[] | null>(worker, { op: 'history', folder: book, patterns: [...DEFAULT_CHAPTER_PATTERNS] });
    assert.ok(changes);

    const d = await loadChapters(run, { userId: 'alice', now }, { preset: 30, scope: 'me' });
    const p = manuscriptProgress(d.chapters, words, changes, d.range);
    assert.equal(p.git, true);
    // Words added in the 30-day range: ch01 4 (a.md 4→8) + 6 (b.md) = 10; the 60-day-old commit is outside. ch02: 6.
    assert.deepEqual([p.byChapter.ch01?.wordsAdded, p.byChapter.ch02?.wordsAdded], [10, 6]);

    for (const [chapter, w, added] of [['ch01', 14, 10], ['ch02', 6, 6]] as const) {
      const [perK, perWord] = (await server.sql(`SELECT sum(cost_usd) * 1000 / {w:Float64}, sum(token_count) / {a:Float64}
        FROM events_attributed WHERE event_type = 'api_request' AND user_id = 'alice' AND chapter = {c:String}
          AND timestamp >= fromUnixTimestamp64Milli({f:Int64}) AND timestamp < fromUnixTimestamp64Milli({t:Int64}) FORMAT TSV`,
      { w: String(w), a: String(added), c: chapter, f: String(d.range.fromMs), t: String(d.range.toMs) })).trim().split('\t').map(Number);
      assert.ok(Math.abs(p.byChapter[chapter]!.costPer1000Words! - perK!) < 1e-9, `${chapter} cost per 1,000 words: ${p.byChapter[chapter]!.costPer1000Words} vs SQL ${perK}`);
      assert.ok(Math.abs(p.byChapter[chapter]!.tokensPerWordAdded! - perWord!) < 1e-9, `${chapter} tokens per word added: ${p.byChapter[chapter]!.tokensPerWordAdded} vs SQL ${perWord}`);
    }
    // And the hand-computed figures: ch01 $0.75 over 14 words, ch02 $1.20 over 6 words.
    assert.ok(Math.abs(p.byChapter.ch01!.costPer1000Words! - 0.75 / 14 * 1000) < 1e-9);
    assert.ok(Math.abs(p.byChapter.ch02!.costPer1000Words! - 200) < 1e-9);
  });
});
