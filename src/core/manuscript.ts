/**
 * Manuscript progress, pure: words per chapter from per-file counts, words added per day from
 * per-commit changes, and the ratios the Chapters panel shows next to cost.
 *
 * Words added on a day = for every commit of that (local) day and every chapter file it changed, the
 * file's words after the commit minus its words before (a deleted file goes to 0, a new one starts
 * at 0). The sum is net: cutting text makes a day negative. A commit's day is its author date.
 */

/** One file's count and the chapter its path belongs to (undefined = not in a chapter). */
export interface FileWords {
  path: string;
  chapter: string | undefined;
  words: number;
}

/** Words per chapter now, chapters by name. Files outside every chapter are left out. */
export function wordsByChapter(files: Iterable<FileWords>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of files) if (f.chapter !== undefined) out.set(f.chapter, (out.get(f.chapter) ?? 0) + f.words);
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** One file changed by one commit: words before and after (0 when absent). */
export interface FileChange {
  /** Author date, epoch ms. */
  timeMs: number;
  chapter: string;
  before: number;
  after: number;
}

export interface DayWords {
  day: string;
  chapter: string;
  added: number;
}

function dayKey(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Net words added per local day and chapter, days then chapters in order; days with no change are absent. */
export function wordsAddedPerDay(changes: Iterable<FileChange>): DayWords[] {
  const m = new Map<string, DayWords>();
  for (const c of changes) {
    const day = dayKey(c.timeMs);
    const k = `${day}\u0000${c.chapter}`;
    const row = m.get(k) ?? { day, chapter: c.chapter, added: 0 };
    row.added += c.after - c.before;
    m.set(k, row);
  }
  return [...m.values()].sort((a, b) => a.day.localeCompare(b.day) || a.chapter.localeCompare(b.chapter));
}

/** Cost per 1,000 words written (undefined without words). */
export function costPer1000Words(costUsd: number, words: number): number | undefined {
  return words > 0 ? (costUsd / words) * 1000 : undefined;
}

/** Tokens spent per word added (undefined when no words were added). */
export function tokensPerWordAdded(tokens: number, wordsAdded: number): number | undefined {
  return wordsAdded > 0 ? tokens / wordsAdded : undefined;
}

/** What the Chapters panel shows next to a chapter's cost. */
export interface ChapterProgress {
  /** Words in the chapter's files now. */
  words: number;
  /** Net words added in the range (git); undefined without history. */
  wordsAdded: number | undefined;
  /** The range's cost per 1,000 words the chapter holds now. */
  costPer1000Words: number | undefined;
  /** The range's tokens per word added in the range. */
  tokensPerWordAdded: number | undefined;
}

export interface ManuscriptProgress {
  /** Whether words added come from git history. */
  git: boolean;
  byChapter: Record<string, ChapterProgress>;
  /** Net words added per day and chapter within the range (empty without git). */
  wordsPerDay: DayWords[];
}

/**
 * Joins the range's cost and tokens per chapter with the manuscript: words now, words added in
 * [fromMs, toMs). Chapters with words but no cost are listed too (cost 0).
 */
export function manuscriptProgress(
  rows: readonly { chapter: string; cost: number; tokens: number }[],
  words: Readonly<Record<string, number>>,
  changes: readonly FileChange[] | undefined,
  range: { fromMs: number; toMs: number },
): ManuscriptProgress {
  const inRange = changes?.filter((c) => c.timeMs >= range.fromMs && c.timeMs < range.toMs);
  const added = new Map<string, number>();
  for (const c of inRange ?? []) added.set(c.chapter, (added.get(c.chapter) ?? 0) + c.after - c.before);
  const byChapter: Record<string, ChapterProgress> = {};
  const chapters = new Set([...rows.map((r) => r.chapter).filter((c) => c !== ''), ...Object.keys(words)]);
  for (const chapter of chapters) {
    const r = rows.find((x) => x.chapter === chapter);
    const w = words[chapter] ?? 0;
    const a = changes ? (added.get(chapter) ?? 0) : undefined;
    byChapter[chapter] = {
      words: w,
      wordsAdded: a,
      costPer1000Words: costPer1000Words(r?.cost ?? 0, w),
      tokensPerWordAdded: a === undefined ? undefined : tokensPerWordAdded(r?.tokens ?? 0, a),
    };
  }
  return { git: changes !== undefined, byChapter, wordsPerDay: inRange ? wordsAddedPerDay(inRange) : [] };
}
