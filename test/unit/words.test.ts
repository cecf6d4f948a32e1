// The manuscript word-count rule (src/core/words.ts) against hand-counted fixtures (test/fixtures/words,
// counts in expected.json: front matter, fenced and indented code, MDX imports/components/expressions,
// HTML comments, links and images, AsciiDoc blocks, CJK text) and small cases of each exclusion.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countProseWords, countWords, textKind } from '../../src/core/words';

const dir = join(__dirname, '..', 'fixtures', 'words');

describe('word counts', () => {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, number>;
  for (const [file, words] of Object.entries(expected)) {
    test(`${file}: ${words} words, as counted by hand`, () => {
      const kind = textKind(file);
      assert.ok(kind, file);
      assert.equal(countWords(readFileSync(join(dir, file), 'utf8'), kind), words);
    });
  }

  test('kinds by extension; other files are not manuscript', () => {
    assert.deepEqual(['a.md', 'b.MDX', 'c.adoc', 'd.txt', 'e.markdown', 'f.js', 'g'].map(textKind), ['markdown', 'mdx', 'asciidoc', 'plain', 'markdown', undefined, undefined]);
  });

  test('each CJK character is one word; Latin words between them count once', () => {
    assert.equal(countProseWords('我们'), 2);
    assert.equal(countProseWords('テキスト'), 4);
    assert.equal(countProseWords('한국어 문장'), 5);
    assert.equal(countProseWords('GPT模型'), 3);
  });

  test('punctuation and markup characters are never words; contractions and numbers are one', () => {
    assert.equal(countWords('# Title\n\n> quoted -- *text* | a | b |\n', 'markdown'), 5);
    assert.equal(countProseWords("don't stop 3.14"), 3);
  });

  test('an unclosed fence hides the rest; front matter without its closing line is text', () => {
    assert.equal(countWords('one two\n```\ncode code\n', 'markdown'), 2);
    assert.equal(countWords('---\nnot front matter\n', 'markdown'), 3);
  });

  test('indented lines inside a list are list text, not code', () => {
    assert.equal(countWords('- item one\n\n    more of item one\n', 'markdown'), 6);
    assert.equal(countWords('para\n\n    code here\n', 'markdown'), 1);
  });
});
