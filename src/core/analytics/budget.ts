/**
 * Reads the spend a budget is measured against and evaluates it. Independent of where the numbers
 * come from: `run` is any QueryRunner — the local store today; a team store (with `userId` = the
 * author's own id, so only their own rows count) plugs in the same way.
 */
import { evaluateBudget, hasLimits, periodsAt, type BudgetEvaluation, type BudgetLimits } from '../budget';
import { plainExec, type RegexExec } from '../chapter';
import { budgetSpend, chapterSpend, type QueryRunner } from '../queries';

export async function loadBudget(run: QueryRunner, userId: string, limits: BudgetLimits, now: Date, exec: RegexExec = plainExec): Promise<BudgetEvaluation> {
  const periods = periodsAt(now);
  if (!hasLimits(limits)) return evaluateBudget({ todayUsd: 0, weekUsd: 0, byChapter: [] }, limits, now, exec);
  const wantChapters = Object.keys(limits.chapterUsd).length > 0;
  const [spend, chapters] = await Promise.all([
    limits.dailyUsd > 0 || limits.weeklyUsd > 0 ? run.rows(budgetSpend(userId, periods.day, periods.week)) : Promise.resolve([]),
    wantChapters ? run.rows(chapterSpend(userId, periods.day.toMs)) : Promise.resolve([]),
  ]);
  const s = spend[0];
  return evaluateBudget({ todayUsd: s?.today ?? 0, weekUsd: s?.week ?? 0, byChapter: chapters }, limits, now, exec);
}
