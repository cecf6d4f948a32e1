/**
 * `npm run report -- --workspace DIR`: reads the book the way the extension does — chapter patterns and budget
 * limits from DIR/.vscode/settings.json (JSON with comments; defaults when absent), words per chapter from its
 * Markdown/MDX/AsciiDoc/text files by the manuscript rule — and evaluates the budget against the store now.
 * Headless and single-shot, so the files are read here in turn (no editor to keep responsive).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { hasLimits, parseLimits, type BudgetLimits } from '../core/budget';
import { DEFAULT_CHAPTER_PATTERNS, chapterOf, compileChapterPatterns } from '../core/chapter';
import { loadBudget } from '../core/analytics/budget';
import { parseJsonc } from '../core/jsonc';
import { wordsByChapter, type FileWords } from '../core/manuscript';
import type { QueryRunner } from '../core/queries/types';
import type { WorkspaceSection } from '../core/report/workspace-section';
import { countWords, textKind } from '../core/words';
import { boundedRegexExec } from '../vscode/bounded-regex';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', '.docusaurus']);
const MAX_FILES = 20_000;
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export interface WorkspaceSettings {
  patterns: string[];
  limits: BudgetLimits;
}

export async function readWorkspaceSettings(dir: string): Promise<WorkspaceSettings> {
  let s: Record<string, unknown> = {};
  try {
    const v = parseJsonc(await readFile(join(dir, '.vscode', 'settings.json'), 'utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) s = v as Record<string, unknown>;
  } catch {
    // no settings file (or not readable as JSONC): defaults
  }
  const p = s['chapterTelemetry.chapterPatterns'];
  const patterns = Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string') ? (p as string[]) : [...DEFAULT_CHAPTER_PATTERNS];
  return { patterns, limits: parseLimits(s['chapterTelemetry.budget.dailyUsd'], s['chapterTelemetry.budget.weeklyUsd'], s['chapterTelemetry.budget.chapterUsd']) };
}

/** Words per chapter of the manuscript files under `dir` (folders like node_modules and .git skipped, links not followed). */
export async function countWorkspaceWords(dir: string, patterns: string[]): Promise<Record<string, number>> {
  const compiled = compileChapterPatterns(patterns).patterns;
  const files: FileWords[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (files.length >= MAX_FILES) return;
      const abs = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(abs);
        continue;
      }
      const kind = e.isFile() ? textKind(e.name) : undefined;
      if (!kind) continue;
      const rel = relative(dir, abs).split(sep).join('/');
      const text = await readFile(abs).catch(() => undefined);
      const words = text && text.length <= MAX_FILE_BYTES ? countWords(text.toString('utf8'), kind) : 0;
      files.push({ path: rel, chapter: chapterOf(rel, compiled, undefined, boundedRegexExec), words });
    }
  };
  await walk(dir);
  return Object.fromEntries(wordsByChapter(files));
}

export async function workspaceSection(dir: string, run: QueryRunner, userId: string, now = new Date()): Promise<WorkspaceSection> {
  const s = await readWorkspaceSettings(dir);
  const words = await countWorkspaceWords(dir, s.patterns);
  return { words, ...(hasLimits(s.limits) ? { budget: await loadBudget(run, userId, s.limits, now, boundedRegexExec) } : {}) };
}
