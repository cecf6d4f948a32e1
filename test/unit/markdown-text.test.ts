// The status-bar tooltip is Markdown; a chapter is a folder name from the book repository. Rendered with a real
// CommonMark renderer (marked), a folder named like a link, an image or HTML shows as those characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { marked } from 'marked';
import { escapeMarkdown, tooltipMarkdown } from '../../src/core/markdown-text';

const base = { state: 'on', manualChapter: false, mode: 'embedded', endpoint: 'http://127.0.0.1:4317' };

/** The visible text of rendered HTML (tags dropped, the few entities marked emits decoded). */
function visible(html: string): string {
  return html.replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

test('a chapter folder named like a link shows as text, not a link', () => {
  const chapter = '01-[x](https://e.example)';
  const html = marked.parse(tooltipMarkdown({ ...base, chapter }), { async: false });
  assert.doesNotMatch(html, /<a\b/);
  assert.match(visible(html), /Chapter: 01-\[x\]\(https:\/\/e\.example\)/);
});

test('images, HTML, emphasis, code and line breaks in a folder name stay text', () => {
  for (const chapter of ['![i](https://e.example/p.png)', '<img src=x onerror=alert(1)>', '**bold** _it_ `code`', '# heading\n- item', '<https://e.example>']) {
    const html = marked.parse(tooltipMarkdown({ ...base, chapter }), { async: false });
    const line = /<p>Chapter: ([^]*?)<\/p>/.exec(html)?.[1] ?? '';
    assert.doesNotMatch(line, /<(a|img|strong|em|code|h1|li|ul)\b/, `${chapter} → ${html}`);
    assert.doesNotMatch(html, /<(a|img|h1|li|ul)\b/, `${chapter} → ${html}`);
    assert.equal(visible(line), chapter.replace(/\n/g, ' '), `${chapter} → ${html}`);
  }
});

test('our own formatting still renders, and error text is escaped too', () => {
  const html = marked.parse(tooltipMarkdown({ ...base, chapter: 'ch07', error: 'bad [link](https://e.example)' }), { async: false });
  assert.match(html, /<strong>Chapter Telemetry<\/strong>/);
  assert.doesNotMatch(html, /<a\b/);
  assert.equal(escapeMarkdown('$(zap)'), '\\$\\(zap\\)');
});
