/**
 * The typed messages between the extension host and the analytics webviews. Both sides import this
 * file; the webview only its types. The webview asks (request → reply), the host tells it when the
 * data moved (`changed`) or the store's reachability changed (`status`).
 */
import type {
  ChapterSessionRow, ChaptersData, CostData, ErrorOccurrenceRow, ErrorsData, QueryFailure, RangeSpec, ScopeOption, SidebarData,
  TeamChaptersData, TeamCostData, TeamErrorsData, ViewScope,
} from '../core/analytics';
import type { PeriodKey } from '../core/queries';

export type PanelKind = 'cost' | 'errors' | 'chapters';

/** Commands a webview may ask the host to run (nothing else is forwarded). */
export const ALLOWED_COMMANDS = [
  'chapterTelemetry.start', 'chapterTelemetry.showLogs',
  'chapterTelemetry.showCost', 'chapterTelemetry.showErrors', 'chapterTelemetry.showChapters',
] as const;
export type AllowedCommand = (typeof ALLOWED_COMMANDS)[number];

/** The scope chooser's choices in this window (local always; Mine / Team with a team connection). */
export interface ScopeChoices {
  options: ScopeOption[];
}

export interface Methods {
  scopes: { params: Record<string, never>; result: ScopeChoices };
  sidebar: { params: { listPeriod: PeriodKey; scope: ViewScope }; result: SidebarData };
  cost: { params: RangeSpec; result: CostData };
  errors: { params: RangeSpec; result: ErrorsData };
  occurrences: { params: RangeSpec & { errorType: string }; result: ErrorOccurrenceRow[] };
  chapters: { params: RangeSpec; result: ChaptersData };
  chapterSessions: { params: RangeSpec & { chapter: string }; result: ChapterSessionRow[] };
  /** The Team scope (coordinator/admin): the team server's aggregates only. */
  teamCost: { params: RangeSpec; result: TeamCostData };
  teamErrors: { params: RangeSpec; result: TeamErrorsData };
  teamChapters: { params: RangeSpec; result: TeamChaptersData };
  copy: { params: { text: string }; result: true };
  command: { params: { command: AllowedCommand }; result: true };
}
export type Method = keyof Methods;

export interface RequestMsg<M extends Method = Method> {
  type: 'request';
  id: number;
  method: M;
  params: Methods[M]['params'];
}

export type ReplyMsg =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; failure: QueryFailure };

export type PushMsg =
  /** New data arrived (or the current chapter changed): ask again. */
  | { type: 'changed' }
  /** The store became unreachable (failure) or reachable again (no failure). */
  | { type: 'status'; failure?: QueryFailure };

export type HostToWebview = ReplyMsg | PushMsg;

/** The state a panel keeps across reloads (webview `setState`, restored by the panel serializer). */
export interface PanelState {
  kind: PanelKind;
  spec: RangeSpec;
}

export function isRequest(m: unknown): m is RequestMsg {
  const r = m as Partial<RequestMsg> | null;
  return !!r && r.type === 'request' && typeof r.id === 'number' && typeof r.method === 'string' && typeof r.params === 'object' && r.params !== null;
}

export function isPanelKind(k: unknown): k is PanelKind {
  return k === 'cost' || k === 'errors' || k === 'chapters';
}
