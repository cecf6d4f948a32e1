import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chapterOf, ChapterState, compileChapterPatterns, DEFAULT_CHAPTER_PATTERNS } from '../../src/core/chapter';
import { boundedRegexExec } from '../../src/vscode/bounded-regex';

const { patterns, invalid } = compileChapterPatterns(DEFAULT_CHAPTER_PATTERNS);

describe('chapterOf with the default patterns', () => {
  test('defaults all compile', () => {
    assert.deepEqual(invalid, []);
    assert.equal(patterns.length, DEFAULT_CHAPTER_PATTERNS.length);
  });
  const cases: [string, string | undefined][] = [
    ['docs/02-foundations/07-context-windows/index.md', '07-context-windows'],
    ['website/docs/01-intro/03-setup/img/fig.png', '03-setup'],
    ['/home/a/book/docs/10-part/12-last/x.mdx', '12-last'],
    ['book/chapter-07/draft.md', 'chapter-07'],
    ['manuscript/Chapter_3/notes.md', 'Chapter_3'],
    ['src/ch07/example.py', 'ch07'],
    ['ch5/a.md', 'ch5'],
    ['07-some-title/text.md', '07-some-title'],
    ['book/02-part/05-deep/text.md', '05-deep'],
    ['C:\\book\\ch09\\a.md', 'ch09'],
    ['README.md', undefined],
    ['src/index.ts', undefined],
    ['docs/intro.md', undefined],
    ['chapter-07.md', undefined],
    ['2024-notes/a.md', undefined],
    ['chess/ch/a.md', undefined],
  ];
  for (const [path, want] of cases) {
    test(`${path} → ${want}`, () => assert.equal(chapterOf(path, patterns), want));
  }
});

describe('custom patterns', () => {
  test('a custom pattern with the named group works; first match wins', () => {
    const c = compileChapterPatterns(['(?<chapter>kapitel\\d+)/', ...DEFAULT_CHAPTER_PATTERNS]);
    assert.equal(chapterOf('buch/kapitel4/ch02/a.md', c.patterns), 'kapitel4');
  });
  test('invalid regex and missing group are reported, not thrown', () => {
    const c = compileChapterPatterns(['(unclosed', 'ch\\d+/', '(?<chapter>ok\\d)/']);
    assert.equal(c.patterns.length, 1);
    assert.deepEqual(c.invalid.map((i) => i.pattern), ['(unclosed', 'ch\\d+/']);
    assert.match(c.invalid[1]!.reason, /named group/);
  });
});

describe('ChapterState', () => {
  test('files outside any chapter keep the last chapter', () => {
    const s = new ChapterState(patterns);
    assert.equal(s.current, undefined);
    assert.equal(s.observe('docs/01-a/03-three/x.md'), true);
    assert.equal(s.current, '03-three');
    assert.equal(s.observe('README.md'), false);
    assert.equal(s.current, '03-three');
    assert.equal(s.observe('docs/01-a/03-three/y.md'), false);
    assert.equal(s.observe('docs/01-a/05-five/y.md'), true);
    assert.equal(s.current, '05-five');
  });
  test('manual override wins until cleared, detection continues underneath', () => {
    const s = new ChapterState(patterns);
    s.observe('ch03/a.md');
    assert.equal(s.setManual('  intro  '), true);
    assert.equal(s.current, 'intro');
    assert.equal(s.isManual, true);
    assert.equal(s.observe('ch05/a.md'), false);
    assert.equal(s.current, 'intro');
    assert.equal(s.setManual(undefined), true);
    assert.equal(s.current, 'ch05');
    assert.equal(s.setManual(''), false);
  });
});

// A cloned repository's chapterPatterns must not freeze the extension host: a catastrophic pattern is interrupted,
// reported and dropped. Unbounded, the first match below would backtrack 2^60 steps, so this test would never end
// (the timeout turns that into a failure instead of a hang).
describe('bounded matching', () => {
  const evil = '^(?<chapter>(a+)+)/$';
  const name = `${'a'.repeat(60)}!/x.md`;
  test('a catastrophic pattern on a long name returns and is dropped', { timeout: 120_000 }, () => {
    const { patterns: ps, invalid: bad } = compileChapterPatterns([evil, ...DEFAULT_CHAPTER_PATTERNS]);
    assert.deepEqual(bad, []);
    const slow: string[] = [];
    const state = new ChapterState(ps, (src) => slow.push(src), boundedRegexExec);
    assert.equal(state.observe(name), false);
    assert.deepEqual(slow, [new RegExp(evil).source]);
    // Dropped for good: the next path never runs it again, and the other patterns still work.
    assert.equal(state.observe(`${'a'.repeat(60)}!/chapter-07/x.md`), true);
    assert.equal(state.current, 'chapter-07');
    assert.deepEqual(slow, [new RegExp(evil).source]);
  });
  test('chapterOf reports the pattern that ran out of time and goes on to the next', { timeout: 120_000 }, () => {
    const { patterns: ps } = compileChapterPatterns([evil, '(?<chapter>a{3})']);
    const timedOut: string[] = [];
    assert.equal(chapterOf(name, ps, (re) => timedOut.push(re.source), boundedRegexExec), 'aaa');
    assert.equal(timedOut.length, 1);
  });
  test('a very long path is cut before matching', () => {
    const { patterns: ps } = compileChapterPatterns(['(?<chapter>z+)$']);
    assert.equal(chapterOf(`${'a'.repeat(5000)}zzz`, ps), undefined);
    assert.equal(chapterOf(`${'a'.repeat(10)}zzz`, ps), 'zzz');
  });
});
