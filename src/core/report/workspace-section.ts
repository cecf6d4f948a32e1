/**
 * The weekly report's workspace section (`npm run report -- --workspace DIR`): the budget's state now and, per
 * chapter of the week, the words its files hold and the week's cost per 1,000 of them. Pure: the caller counts
 * the files (by the manuscript rule, src/core/words.ts) and evaluates the budget (src/core/budget.ts).
 */
import type { BudgetEvaluation } from '../budget';
import { costPer1000Words } from '../manuscript';
import { usd } from './format';
import type { WeeklyReport } from './load';

export interface WorkspaceSection {
  /** Words per chapter in the workspace now. */
  words: Record<string, number>;
  /** The budget now (undefined when no limit is set in the workspace's settings). */
  budget?: BudgetEvaluation;
}

export interface WordsRow {
  chapter: string;
  cost: number;
  words: number;
  costPer1000Words: number | undefined;
}

/** The week's chapters with their words; chapters that have words but no cost this week are left out. */
export function wordsRows(r: WeeklyReport, s: WorkspaceSection): WordsRow[] {
  return r.chapters.filter((c) => c.chapter !== '').map((c) => {
    const words = s.words[c.chapter] ?? 0;
    return { chapter: c.chapter, cost: Number(c.cost), words, costPer1000Words: costPer1000Words(Number(c.cost), words) };
  });
}

const STATE = { ok: 'within limits', warning: 'nearly reached (80 % or more)', over: 'reached' } as const;

/** One line per limit, worst first, e.g. "$4.10 of $5.00 today (warning)". */
export function budgetLines(s: WorkspaceSection): string[] {
  return s.budget ? s.budget.statuses.map((x) => `${x.text} (${x.state})`) : [];
}

export function budgetSummary(s: WorkspaceSection): string {
  return s.budget && s.budget.statuses.length > 0 ? `Budget ${STATE[s.budget.state]}` : 'No budget limits set in this workspace.';
}

export function perThousand(v: number | undefined): string {
  return v === undefined ? '—' : usd(v);
}
