// Words added per day from a git repository this test builds commit by commit with known texts and author
// dates (the workspace folder is a subfolder of the repository, so paths are taken relative to it), plus a
// folder that is no repository. Runs the real `git` from PATH.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_CHAPTER_PATTERNS, chapterOf, compileChapterPatterns } from '../../src/core/chapter';
import { costPer1000Words, manuscriptProgress, tokensPerWordAdded, wordsAddedPerDay, wordsByChapter } from '../../src/core/manuscript';
import { gitWordChanges } from '../../src/manuscript/git-history';

const root = mkdtempSync(join(tmpdir(), 'ct-git-words-'));
const repo = join(root, 'repo');
const book = join(repo, 'book');
const patterns = compileChapterPatterns(DEFAULT_CHAPTER_PATTERNS).patterns;
const chapter = (p: string) => chapterOf(p, patterns);

function git(args: string[], when?: Date): void {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  if (when) {
    const stamp = `${Math.floor(when.getTime() / 1000)} +0000`;
    Object.assign(env, { GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp });
  }
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], { cwd: repo, env, stdio: 'pipe' });
}

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(book, rel)), { recursive: true });
  writeFileSync(join(book, rel), text);
}

function commit(when: Date, msg: string): void {
  git(['add', '-A']);
  git(['commit', '-q', '-m', msg], when);
}

after(() => rmSync(root, { recursive: true, force: true }));

describe('words added per day from git history', () => {
  test('a history built commit by commit gives the known net words per local day and chapter', async () => {
    mkdirSync(book, { recursive: true });
    git(['init', '-q']);
    // Day 1: ch01 gets 3 words, then 2 more; ch02 gets 2. README (no chapter) and code never count.
    write('ch01/draft.md', 'one two three\n');
    write('ch02/intro.md', '# alpha beta\n');
    writeFileSync(join(repo, 'README.md'), 'many words outside the book folder\n');
    commit(new Date(2026, 2, 2, 10, 0), 'day 1 morning');
    write('ch01/draft.md', 'one two three four five\n');
    write('ch01/app.js', 'const not = "words";\n');
    commit(new Date(2026, 2, 2, 15, 0), 'day 1 afternoon');
    // Day 2: a new text file in ch01 (+4), ch02's only file deleted (-2).
    write('ch01/notes.txt', 'x y z w\n');
    rmSync(join(book, 'ch02/intro.md'));
    commit(new Date(2026, 2, 3, 9, 0), 'day 2');
    // Day 3: front matter and a code block added to ch01 (+0 words), a new ch02 file (+2).
    write('ch01/draft.md', '---\ntitle: Draft\n---\none two three four five\n\n```\ncode block words\n```\n');
    write('ch02/new.mdx', 'import X from "x";\n\nhello <X>world</X>\n');
    commit(new Date(2026, 2, 4, 23, 30), 'day 3');

    const changes = await gitWordChanges(book, chapter);
    assert.ok(changes);
    assert.deepEqual(wordsAddedPerDay(changes), [
      { day: '2026-03-02', chapter: 'ch01', added: 5 },
      { day: '2026-03-02', chapter: 'ch02', added: 2 },
      { day: '2026-03-03', chapter: 'ch01', added: 4 },
      { day: '2026-03-03', chapter: 'ch02', added: -2 },
      { day: '2026-03-04', chapter: 'ch01', added: 0 },
      { day: '2026-03-04', chapter: 'ch02', added: 2 },
    ]);
    // The history's net sums equal the counts of the files as they are now.
    const net = new Map<string, number>();
    for (const r of wordsAddedPerDay(changes)) net.set(r.chapter, (net.get(r.chapter) ?? 0) + r.added);
    assert.deepEqual([...net], [['ch01', 9], ['ch02', 2]]);
    assert.deepEqual([...wordsByChapter([
      { path: 'ch01/draft.md', chapter: 'ch01', words: 5 }, { path: 'ch01/notes.txt', chapter: 'ch01', words: 4 },
      { path: 'ch02/new.mdx', chapter: 'ch02', words: 2 }, { path: 'README.md', chapter: undefined, words: 6 },
    ])], [['ch01', 9], ['ch02', 2]]);

    // Only commits since a time.
    const since = await gitWordChanges(book, chapter, new Date(2026, 2, 3, 0, 0).getTime());
    assert.deepEqual(wordsAddedPerDay(since!).map((r) => r.day), ['2026-03-03', '2026-03-03', '2026-03-04', '2026-03-04']);
  });

  test('a folder that is no git repository has no history (current counts only)', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'ct-no-git-'));
    try {
      // GIT_CEILING_DIRECTORIES keeps git from finding a repository in a parent of the temp dir.
      process.env.GIT_CEILING_DIRECTORIES = tmpdir();
      assert.equal(await gitWordChanges(plain, chapter), undefined);
    } finally {
      delete process.env.GIT_CEILING_DIRECTORIES;
      rmSync(plain, { recursive: true, force: true });
    }
  });

  test('ratios: cost per 1,000 words and tokens per word added', () => {
    assert.equal(costPer1000Words(2.5, 5000), 0.5);
    assert.equal(costPer1000Words(1, 0), undefined);
    assert.equal(tokensPerWordAdded(12_000, 400), 30);
    assert.equal(tokensPerWordAdded(100, -5), undefined);
  });

  test('progress per chapter: words now, words added inside the range only, chapters with words but no cost listed', () => {
    const rows = [{ chapter: 'ch01', cost: 1.5, tokens: 3000 }, { chapter: '', cost: 9, tokens: 9 }];
    const changes = [
      { timeMs: 50, chapter: 'ch01', before: 0, after: 100 }, // before the range
      { timeMs: 150, chapter: 'ch01', before: 100, after: 400 },
      { timeMs: 160, chapter: 'ch02', before: 0, after: 50 },
      { timeMs: 300, chapter: 'ch01', before: 400, after: 900 }, // after it
    ];
    const p = manuscriptProgress(rows, { ch01: 900, ch02: 50 }, changes, { fromMs: 100, toMs: 300 });
    assert.deepEqual(p.byChapter, {
      ch01: { words: 900, wordsAdded: 300, costPer1000Words: 1.5 / 900 * 1000, tokensPerWordAdded: 10 },
      ch02: { words: 50, wordsAdded: 50, costPer1000Words: 0, tokensPerWordAdded: 0 },
    });
    assert.deepEqual(p.wordsPerDay.map((r) => [r.chapter, r.added]), [['ch01', 300], ['ch02', 50]]);
    const noGit = manuscriptProgress(rows, { ch01: 900 }, undefined, { fromMs: 100, toMs: 300 });
    assert.equal(noGit.git, false);
    assert.deepEqual(noGit.byChapter.ch01, { words: 900, wordsAdded: undefined, costPer1000Words: 1.5 / 900 * 1000, tokensPerWordAdded: undefined });
  });
});
