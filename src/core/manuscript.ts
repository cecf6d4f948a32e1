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
