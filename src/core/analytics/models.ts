/**
 * What the views show: the payloads the host computes from query rows and sends to the webviews.
 * Shared by the host, the webviews (type-only) and the tests.
 */
import type {
  AffectedSessionRow, ChapterComplexityRow, DayChapterCostRow, ChapterCostRow, ChapterCostTokensRow, ChapterSessionRow, ChapterTotalsRow,
  DayCostRow, DayErrorRateRow, DayErrorRow, DayModelCostRow, DayTokensRow, ErrorMessageRow, ErrorOccurrenceRow,
  ModelCostRow, PeriodKey, TotalsRow, HiddenRowsRow, MemberCostRow, DayMemberCostRow, MemberErrorRateRow, ErrorPatternRow,
  DayErrorKindRow, MemberErrorKindRow, TeamChapterRow, ChapterMemberRow,
} from '../queries';
import type { ViewScope } from './scope';
import type { CostLimits } from '../budget';
import type { ManuscriptProgress } from '../manuscript';

export interface PeriodTotals extends TotalsRow {
  cache_hit_rate: number;
  error_rate: number;
}

/** Every view's data says which scope it was read in, and (scope `me`) what that filter hid. */
export interface Scoped {
  scope: ViewScope;
  /** Rows of other authors in the same window that the `me` filter left out (absent when none is hidden or not applicable). */
  hidden?: HiddenRowsRow;
}

export interface SidebarData extends Scoped {
  /** True when the store holds no Claude Code event at all (show the three first steps). */
  empty: boolean;
  /** The author whose rows are shown, '' for every author. */
  userId: string;
  periods: Record<PeriodKey, PeriodTotals>;
  /** Period the lists (chapters, models) cover. */
  listPeriod: PeriodKey;
  topChapters: ChapterCostRow[];
  models: ModelCostRow[];
  /** The last 14 days, oldest first, every day present. */
  sparkline: DayCostRow[];
  current: { chapter: string; totals: ChapterTotalsRow } | undefined;
  /** When these numbers were read (epoch ms). */
  asOf: number;
}

export interface RangeSpec {
  /** 7 / 30 / 90 days ending today, or a custom range of local days (inclusive). */
  preset: 7 | 30 | 90 | 'custom';
  fromDay?: string;
  toDay?: string;
  scope: ViewScope;
}

export interface ResolvedRange {
  fromMs: number;
  toMs: number;
  days: string[];
  label: string;
}

export interface CostData extends Scoped {
  range: ResolvedRange;
  /** The budget limits to draw (absent when none is set or the host did not add them). */
  limits?: CostLimits;
  daily: DayModelCostRow[];
  models: string[];
  chapters: ChapterCostTokensRow[];
  tokens: DayTokensRow[];
}

export interface ErrorsData extends Scoped {
  range: ResolvedRange;
  byTypeStatus: DayErrorRow[];
  rate: (DayErrorRateRow & { error_rate: number })[];
  retriesExhausted: number;
  messages: ErrorMessageRow[];
  sessions: AffectedSessionRow[];
}

export interface ChaptersData extends Scoped {
  range: ResolvedRange;
  /** Words, cost per 1,000 words, tokens per word added (absent when the host has no workspace to count). */
  progress?: ManuscriptProgress;
  chapters: ChapterComplexityRow[];
  /** Cost per day and chapter (the per-chapter trend). */
  dailyCost: DayChapterCostRow[];
}

/** Team scope (coordinator): from the team server's aggregates only. Days are the team server's days. */
export interface TeamCostData {
  range: ResolvedRange;
  members: MemberCostRow[];
  daily: DayMemberCostRow[];
}
export interface TeamErrorsData {
  range: ResolvedRange;
  /** API error rate per member (daily_metrics). */
  rateByMember: MemberErrorRateRow[];
  /** From `daily_errors`; absent when the team server has no such table (an older server): the view says so. */
  patterns?: ErrorPatternRow[];
  daily?: DayErrorKindRow[];
  byMember?: MemberErrorKindRow[];
}
export interface TeamChaptersData {
  range: ResolvedRange;
  chapters: (TeamChapterRow & { sessions: number })[];
  byMember: ChapterMemberRow[];
}

export type { ErrorOccurrenceRow, ChapterSessionRow };
