/**
 * The sidebar: totals for today / 7 / 30 days, top chapters, models, a 14-day sparkline, for the
 * chosen scope (the whole local store by default); in the Team scope, the team's cost by member.
 */
import type { PeriodTotals, SidebarData, TeamCostData } from '../core/analytics';
import { DEFAULT_SCOPE, type ScopeOption, type ViewScope } from '../core/analytics/scope';
import type { PeriodKey } from '../core/queries';
import { drawChart, disposeDetached, seriesColor } from './charts';
import { button, h, replace, table } from './dom';
import { asFailure, failureView } from './failure';
import { chapterName, int, money, pct } from './format';
import { coalesced, onPush, request, vscode } from './rpc';
import { hiddenNote, scopePicker } from './scope';

const root = document.getElementById('root')!;
const PERIOD_LABEL: Record<PeriodKey, string> = { today: 'Today', d7: '7 days', d30: '30 days' };
const saved = vscode.getState() as { listPeriod?: PeriodKey; scope?: ViewScope } | undefined;
let listPeriod: PeriodKey = saved?.listPeriod ?? 'd7';
let scope: ViewScope = saved?.scope ?? DEFAULT_SCOPE;
let options: ScopeOption[] = [];

function saveState(): void {
  vscode.setState({ listPeriod, scope });
}

function setScope(s: ViewScope): void {
  scope = s;
  saveState();
  void refresh();
}

function scopeBar(): HTMLElement {
  return h('div', { class: 'scope-bar' }, scopePicker(options, scope, setScope));
}

const METRICS: { key: keyof PeriodTotals; label: string; fmt(v: number): string }[] = [
  { key: 'cost', label: 'Cost', fmt: money },
  { key: 'requests', label: 'API requests', fmt: int },
  { key: 'input_tokens', label: 'Input tokens', fmt: int },
  { key: 'output_tokens', label: 'Output tokens', fmt: int },
  { key: 'cache_read_tokens', label: 'Cache read tokens', fmt: int },
  { key: 'cache_creation_tokens', label: 'Cache creation tokens', fmt: int },
  { key: 'cache_hit_rate', label: 'Cache hit rate', fmt: pct },
  { key: 'errors', label: 'Errors', fmt: int },
  { key: 'error_rate', label: 'Error rate', fmt: pct },
  { key: 'sessions', label: 'Sessions', fmt: int },
];

function setState(s: string): void {
  document.body.dataset.state = s;
}

function totalsTable(d: SidebarData): HTMLElement {
  const periods: PeriodKey[] = ['today', 'd7', 'd30'];
  return h('table', { class: 'totals', 'data-table': 'totals' },
    h('caption', { 'data-caption': d.scope }, d.scope === 'mine' ? `Mine on the team server (${d.userId})` : d.userId ? `Only ${d.userId}` : 'All authors in this store'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), ...periods.map((p) => h('th', { scope: 'col' }, PERIOD_LABEL[p])))),
    h('tbody', {}, ...METRICS.map((m) => h('tr', {},
      h('th', { scope: 'row' }, m.label),
      ...periods.map((p) => {
        const v = d.periods[p][m.key];
        return h('td', { class: 'num', 'data-metric': m.key, 'data-period': p, 'data-value': String(v) }, m.fmt(v));
      })))));
}

function currentChapter(d: SidebarData): HTMLElement | null {
  if (!d.current) return h('p', { class: 'muted' }, 'No chapter in focus: open a file of your book.');
  const t = d.current.totals;
  const row = (label: string, key: string, v: number, fmt: (v: number) => string) =>
    h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num', 'data-metric': key, 'data-value': String(v) }, fmt(v)));
  return h('section', { 'data-section': 'current' },
    h('h2', {}, 'Current chapter: ', h('span', { class: 'chapter', 'data-chapter': d.current.chapter }, chapterName(d.current.chapter))),
    h('table', { 'data-table': 'current' },
      h('caption', {}, 'Last 30 days in this chapter'),
      h('tbody', {},
        row('Cost today', 'cost_today', t.cost_today, money),
        row('Cost', 'cost', t.cost, money),
        row('API requests', 'requests', t.requests, int),
        row('Tokens', 'tokens', t.tokens, int),
        row('Errors', 'errors', t.errors, int),
        row('Sessions', 'sessions', t.sessions, int))));
}

function sparkline(d: SidebarData): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Cost per day over the last 14 days; the table below has the numbers' });
  const wrap = h('section', { 'data-section': 'sparkline' },
    h('h2', {}, 'Last 14 days'),
    h('div', { class: 'chart spark' }, canvas),
    h('details', {}, h('summary', {}, 'Table'),
      table('sparkline', 'Cost per day, last 14 days', [
        { key: 'day', label: 'Day', value: (r) => r.day },
        { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
        { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      ], d.sparkline)));
  queueMicrotask(() => drawChart(canvas, () => ({
    type: 'line',
    data: {
      labels: d.sparkline.map((r) => r.day.slice(5)),
      datasets: [{ label: 'Cost (USD)', data: d.sparkline.map((r) => r.cost), borderColor: seriesColor(0), backgroundColor: seriesColor(0), pointRadius: 0, tension: 0.3, fill: false }],
    },
    options: { plugins: { legend: { display: false }, tooltip: { enabled: true } }, scales: { x: { display: false }, y: { display: false, beginAtZero: true } } },
  })));
  return wrap;
}

function lists(d: SidebarData): HTMLElement {
  const picker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Period for the lists' },
    ...(['today', 'd7', 'd30'] as PeriodKey[]).map((p) => h('button', {
      type: 'button', 'aria-pressed': String(p === d.listPeriod), 'data-period': p,
      onclick: () => { listPeriod = p; saveState(); void refresh(); },
    }, PERIOD_LABEL[p])));
  return h('section', { 'data-section': 'lists' },
    h('h2', {}, 'Where it went'), picker,
    table('top-chapters', `Top chapters by cost (${PERIOD_LABEL[d.listPeriod]})`, [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
    ], d.topChapters),
    table('models', `Cost by model (${PERIOD_LABEL[d.listPeriod]})`, [
      { key: 'model', label: 'Model', value: (r) => r.model },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
    ], d.models));
}

function firstSteps(): HTMLElement {
  return h('section', { class: 'empty', 'data-section': 'empty' },
    h('h2', {}, 'No telemetry yet'),
    h('ol', {},
      h('li', {}, 'Start collection: ', button('Start', () => void request('command', { command: 'chapterTelemetry.start' }))),
      h('li', {}, 'Open a new terminal in VS Code (it gets the telemetry settings).'),
      h('li', {}, 'Run ', h('code', {}, 'claude'), ' there while you work on a chapter: your numbers appear here within seconds.')));
}

function panelsBar(): HTMLElement {
  return h('div', { class: 'actions' },
    button('Cost', () => void request('command', { command: 'chapterTelemetry.showCost' }), 'secondary'),
    button('Errors', () => void request('command', { command: 'chapterTelemetry.showErrors' }), 'secondary'),
    button('Chapters', () => void request('command', { command: 'chapterTelemetry.showChapters' }), 'secondary'));
}

function render(d: SidebarData): void {
  setState(d.empty ? 'empty' : 'ready');
  // An empty local store shows the first steps; with a team connection the chooser stays (Mine / Team have data).
  if (d.empty && d.scope === 'all') replace(root, options.some((o) => o.scope === 'mine') ? scopeBar() : null, firstSteps());
  else replace(root, scopeBar(), hiddenNote(d, () => setScope('all')), totalsTable(d), currentChapter(d), sparkline(d), lists(d), panelsBar(),
    h('p', { class: 'muted asof', 'data-asof': String(d.asOf) }, `Updated ${new Date(d.asOf).toLocaleTimeString()}`));
  disposeDetached();
}

/** Team scope: the team's last 30 days by member (aggregates only); the panels have the rest. */
function renderTeam(d: TeamCostData): void {
  setState('ready');
  const total = d.members.reduce((s, r) => s + r.cost, 0);
  replace(root, scopeBar(),
    h('p', {}, 'Team, last 30 days: ', h('strong', { 'data-metric': 'team-total-cost', 'data-value': String(total) }, money(total))),
    table('team-members', 'Cost by member (30 days)', [
      { key: 'member', label: 'Member', value: (r) => r.member },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
    ], d.members),
    panelsBar());
  disposeDetached();
}

const refresh = coalesced(async () => {
  try {
    options = (await request('scopes', {})).options;
    // A scope this window no longer offers (team connection gone, role changed) falls back to the default.
    if (!options.some((o) => o.scope === scope)) {
      scope = DEFAULT_SCOPE;
      saveState();
    }
    if (scope === 'team') renderTeam(await request('teamCost', { preset: 30, scope }));
    else render(await request('sidebar', { listPeriod, scope }));
  } catch (e) {
    const f = asFailure(e);
    setState(f.kind === 'query' ? 'error' : 'unreachable');
    // Keep the chooser: a failing team scope must not trap the view (Local still works offline).
    replace(root, options.length > 0 && scope !== DEFAULT_SCOPE ? scopeBar() : null, failureView(f));
    disposeDetached();
  }
});

onPush((m) => {
  if (m.type === 'status' && m.failure) {
    setState(m.failure.kind === 'query' ? 'error' : 'unreachable');
    replace(root, failureView(m.failure));
    disposeDetached();
  } else void refresh();
});
setState('loading');
void refresh();
