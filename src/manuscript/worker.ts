/**
 * The manuscript counter's worker thread (bundled to dist/manuscript-worker.js): file reading, word counting
 * and the git history run here, never on the extension host's thread, so a big book does not stall typing.
 * Requests: `{id, op: 'count', files: [{abs, rel}], patterns}` → `{id, ok, result: [{rel, chapter, words}]}`
 * (a file that cannot be read counts 0 words); `{id, op: 'history', folder, patterns, sinceMs?}` →
 * `{id, ok, result: FileChange[] | null}` (null = no git or no repository).
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { chapterOf, compileChapterPatterns } from '../core/chapter';
import { countWords, textKind } from '../core/words';
import { boundedRegexExec } from '../vscode/bounded-regex';
import { gitWordChanges } from './git-history';

export type WorkerRequest =
  | { id: number; op: 'count'; files: { abs: string; rel: string }[]; patterns: string[] }
  | { id: number; op: 'history'; folder: string; patterns: string[]; sinceMs?: number };

/** Files larger than this are not prose (generated, data): counted as 0 rather than read. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

function matcher(patterns: string[]): (rel: string) => string | undefined {
  const compiled = compileChapterPatterns(patterns).patterns;
  return (rel) => chapterOf(rel, compiled, undefined, boundedRegexExec);
}

async function handle(m: WorkerRequest): Promise<unknown> {
  const chapter = matcher(m.patterns);
  if (m.op === 'count') {
    const out: { rel: string; chapter: string | undefined; words: number }[] = [];
    for (const f of m.files) {
      const kind = textKind(f.rel);
      let words = 0;
      if (kind) {
        try {
          const buf = await readFile(f.abs);
          if (buf.length <= MAX_FILE_BYTES) words = countWords(buf.toString('utf8'), kind);
        } catch {
          // deleted or unreadable meanwhile: 0
        }
      }
      out.push({ rel: f.rel, chapter: chapter(f.rel), words });
    }
    return out;
  }
  return (await gitWordChanges(m.folder, chapter, m.sinceMs)) ?? null;
}

parentPort?.on('message', (m: WorkerRequest) => {
  void handle(m).then(
    (result) => parentPort?.postMessage({ id: m.id, ok: true, result }),
    (e: unknown) => parentPort?.postMessage({ id: m.id, ok: false, error: (e as Error)?.message ?? String(e) }),
  );
});
