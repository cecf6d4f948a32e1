/**
 * How many words of prose a manuscript file holds. Pure: the caller reads the file.
 *
 * THE RULE (what counts as a word):
 * 1. Kinds by extension: Markdown (`.md`, `.markdown`), MDX (`.mdx`), AsciiDoc (`.adoc`, `.asciidoc`, `.asc`),
 *    plain text (`.txt`, `.text`). Other files are not manuscript (`textKind` answers undefined).
 * 2. Markdown and MDX: a front matter block at the very start (`---` … `---` YAML or `+++` … `+++` TOML) is
 *    dropped; so are fenced code blocks (``` or ~~~, up to the matching closing fence or the end of the file),
 *    indented code blocks (lines indented by a tab or 4+ spaces after a blank line, outside any list), HTML
 *    comments, HTML/JSX/MDX tags (`<Note type="x">`, `</Note>`, `<br/>`; the text between tags counts),
 *    in MDX top-level `import`/`export` lines and `{…}` expressions, inline code spans, images (alt text too),
 *    link destinations and reference definitions (`[x]: https://…`; a link's visible text counts), bare URLs,
 *    and markup characters (`#`, `*`, `_`, `>`, `|`, list markers, …: punctuation is never a word).
 * 3. AsciiDoc: the header's attribute lines (`:name: value`), comment lines (`// …`) and comment blocks (`////`),
 *    listing/literal/passthrough blocks (`----`, `....`, `++++`), block attribute lines (`[source,js]`) and
 *    macros' targets (`image::x.png[]`, `link:https://…[text]` keeps `text`) are dropped.
 * 4. Plain text: everything counts.
 * 5. What is left is split by `Intl.Segmenter` (granularity "word"); every word-like segment is one word
 *    (`don't`, `e-mail` per the Unicode rules, numbers count), except that each CJK character (Han ideograph,
 *    Hiragana, Katakana, Hangul syllable) counts as one word on its own, since those scripts do not separate
 *    words with spaces and a per-character count is the convention for them.
 */

export type TextKind = 'markdown' | 'mdx' | 'asciidoc' | 'plain';

const KINDS: Record<string, TextKind> = {
  md: 'markdown', markdown: 'markdown', mdx: 'mdx', adoc: 'asciidoc', asciidoc: 'asciidoc', asc: 'asciidoc', txt: 'plain', text: 'plain',
};

/** The kind of a manuscript file by its name, or undefined when it is not one. */
export function textKind(fileName: string): TextKind | undefined {
  const m = /\.([a-z]+)$/i.exec(fileName);
  return m ? KINDS[m[1]!.toLowerCase()] : undefined;
}

/** Extensions the watcher and the git history look at (the keys of the kind table). */
export const TEXT_EXTENSIONS: readonly string[] = Object.keys(KINDS);

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const CJK_G = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

let segmenter: Intl.Segmenter | undefined;

/** Words in prose that has already lost its markup (rule 5). */
export function countProseWords(text: string): number {
  segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
  let n = 0;
  for (const s of segmenter.segment(text)) {
    if (!s.isWordLike) continue;
    if (CJK.test(s.segment)) {
      const cjk = s.segment.match(CJK_G)?.length ?? 0;
      const rest = s.segment.replace(CJK_G, '');
      n += cjk + (LETTER_OR_DIGIT.test(rest) ? 1 : 0);
    } else {
      n += 1;
    }
  }
  return n;
}

const URL_RE = /\b(?:https?|ftp|mailto):[^\s<>()[\]]+/gi;

/** Inline Markdown/MDX markup → its visible text. */
function markdownInline(line: string, mdx: boolean): string {
  let s = line;
  s = s.replace(/`+[^`]*`+/g, ' '); // inline code
  s = s.replace(/!\[[^\]]*\]\([^)]*\)/g, ' '); // images, alt text included
  s = s.replace(/!\[[^\]]*\]\[[^\]]*\]/g, ' ');
  s = s.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'); // links keep their text
  s = s.replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1');
  s = s.replace(/<\/?[A-Za-z][^<>]*>/g, ' '); // HTML / JSX tags
  if (mdx) s = s.replace(/\{[^{}]*\}/g, ' '); // JSX expressions
  s = s.replace(URL_RE, ' ');
  return s;
}

function stripFrontMatter(lines: string[]): string[] {
  const first = lines[0]?.trim();
  if (first !== '---' && first !== '+++') return lines;
  for (let i = 1; i < lines.length; i++) if (lines[i]!.trim() === first) return lines.slice(i + 1);
  return lines; // no closing line: not front matter
}

function markdownProse(text: string, mdx: boolean): string {
  // HTML comments, and tags whose attributes run over several lines (`<Figure\n  src="…">`), go first.
  const src = text.replace(/<!--[\s\S]*?(?:-->|$)/g, ' ').replace(/<\/?[A-Za-z][^<>\n]*\n[^<>]*>/g, ' ');
  const lines = stripFrontMatter(src.split(/\r?\n/));
  const out: string[] = [];
  let fence: string | undefined;
  let prevBlank = true;
  let inList = false;
  let inCode = false;
  for (const line of lines) {
    if (fence !== undefined) {
      if (new RegExp(`^\\s{0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).test(line)) fence = undefined;
      continue;
    }
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (open) {
      fence = open[1]!;
      prevBlank = false;
      continue;
    }
    const blank = line.trim() === '';
    if (blank) {
      prevBlank = true;
      out.push('');
      continue;
    }
    if (/^\s{0,3}(?:[-*+]|\d+[.)])\s/.test(line)) inList = true;
    else if (prevBlank && !/^(?: {4}|\t)/.test(line)) inList = false;
    // Indented code: starts after a blank line (or continues one), never inside a list item.
    const indented = /^(?: {4}|\t)/.test(line);
    if (indented && !inList && (prevBlank || inCode)) {
      inCode = true;
      prevBlank = false;
      continue;
    }
    inCode = false;
    prevBlank = false;
    if (/^\s{0,3}\[[^\]]+\]:\s*\S/.test(line)) continue; // reference definition
    if (mdx && /^(?:import|export)\s/.test(line)) continue;
    out.push(markdownInline(line, mdx));
  }
  return out.join('\n');
}

function asciidocProse(text: string): string {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let block: string | undefined;
  for (const line of lines) {
    const t = line.trim();
    if (block !== undefined) {
      if (t === block) block = undefined;
      continue;
    }
    if (/^(?:-{4,}|\.{4,}|\+{4,}|\/{4,})$/.test(t)) {
      block = t;
      continue;
    }
    if (/^\/\//.test(t)) continue; // comment line
    if (/^:[\w-]+!?:/.test(t)) continue; // attribute entry
    if (/^\[[^\]]*\]$/.test(t)) continue; // block attributes, e.g. [source,js]
    let s = line.replace(/^\s*[\w-]+::\S*\[[^\]]*\]\s*$/, ' '); // block macro (image::x.png[])
    s = s.replace(/\b(?:link|image|xref|include):[^\s[]*\[([^\]]*)\]/g, '$1');
    s = s.replace(/<<[^>]*>>/g, ' ');
    s = s.replace(/`+[^`]*`+/g, ' ');
    s = s.replace(URL_RE, ' ');
    out.push(s);
  }
  return out.join('\n');
}

/** The prose of a file after the rule's exclusions (rules 2–4). */
export function proseOf(text: string, kind: TextKind): string {
  switch (kind) {
    case 'markdown':
      return markdownProse(text, false);
    case 'mdx':
      return markdownProse(text, true);
    case 'asciidoc':
      return asciidocProse(text);
    case 'plain':
      return text;
  }
}

/** Words in a manuscript file's text, by THE RULE above. */
export function countWords(text: string, kind: TextKind): number {
  return countProseWords(proseOf(text, kind));
}
