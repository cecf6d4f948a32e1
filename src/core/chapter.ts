/**
 * Which book chapter a file belongs to, from configurable patterns (regex strings with a
 * named group `chapter`). Pure: the vscode layer feeds it workspace-relative paths.
 */

/** Defaults, tried in order; the first pattern that matches wins. */
export const DEFAULT_CHAPTER_PATTERNS: readonly string[] = [
  // Docusaurus-style book: docs/<NN-part>/<NN-chapter>/… → the chapter folder.
  '(?:^|/)docs/\\d{1,3}[-_][^/]+/(?<chapter>\\d{1,3}[-_][^/]+)/',
  // chapter-07/, chapter_7/, chapter07/
  '(?:^|/)(?<chapter>chapter[-_]?\\d{1,3})/',
  // ch07/, ch-7/
  '(?:^|/)(?<chapter>ch[-_]?\\d{1,3})/',
  // 07-some-title/ — the deepest such folder, so part/chapter nesting yields the chapter.
  '^(?:.*/)?(?<chapter>\\d{1,3}-[^/]+)/',
];

export interface CompiledPatterns {
  patterns: RegExp[];
  /** Patterns that were skipped, with the reason (shown to the user, never thrown). */
  invalid: { pattern: string; reason: string }[];
}

/** Compiles pattern strings (case-insensitive); bad ones are reported, not fatal. */
export function compileChapterPatterns(sources: readonly string[]): CompiledPatterns {
  const patterns: RegExp[] = [];
  const invalid: CompiledPatterns['invalid'] = [];
  for (const pattern of sources) {
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i');
    } catch (e) {
      invalid.push({ pattern, reason: (e as Error).message });
      continue;
    }
    if (!/\(\?<chapter>/.test(pattern)) {
      invalid.push({ pattern, reason: 'it has no named group (?<chapter>…)' });
      continue;
    }
    patterns.push(re);
  }
  return { patterns, invalid };
}

/** Forward slashes only, so one set of patterns serves Windows and POSIX paths. */
export function normalizePath(path: string): string {
  return path.replace(/\\/g, '/');
}

/** The chapter of a path, or undefined when no pattern matches (the caller keeps the last chapter). */
export function chapterOf(path: string, patterns: readonly RegExp[]): string | undefined {
  const p = normalizePath(path);
  for (const re of patterns) {
    const chapter = re.exec(p)?.groups?.chapter;
    if (chapter) return chapter;
  }
  return undefined;
}

/** The chapter in focus: detected from files, unless a manual override is set. */
export class ChapterState {
  private detected: string | undefined;
  private manual: string | undefined;

  constructor(private patterns: readonly RegExp[]) {}

  get current(): string | undefined {
    return this.manual ?? this.detected;
  }

  get isManual(): boolean {
    return this.manual !== undefined;
  }

  setPatterns(patterns: readonly RegExp[]): void {
    this.patterns = patterns;
  }

  /** Feeds the path of the file in focus; returns true when the current chapter changed. */
  observe(path: string): boolean {
    const before = this.current;
    const found = chapterOf(path, this.patterns);
    if (found !== undefined) this.detected = found;
    return this.current !== before;
  }

  /** Sets (or with undefined/empty, clears) the manual override; returns true when the current chapter changed. */
  setManual(chapter: string | undefined): boolean {
    const before = this.current;
    const c = chapter?.trim();
    this.manual = c ? c : undefined;
    return this.current !== before;
  }
}
