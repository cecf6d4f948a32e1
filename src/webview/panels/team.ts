/**
 * The Team scope of the three panels (coordinator/admin in central mode): cost by member, the team's
 * error patterns, chapter complexity across contributors. Every number comes from the team server's
 * aggregate tables; there is no drill-down into other members' sessions or messages on purpose.
 */
import type { RangeSpec } from '../../core/analytics';
import type { ErrorKind, ErrorPatternRow, MemberErrorKindRow } from '../../core/queries';
import { seriesColor } from '../charts';
import { h, table } from '../dom';
import { chapterName, int, money, orNone, pct } from '../format';
import { request } from '../rpc';
import { chartSection, complexityColumns, section, tokensPerChapterChart } from './common';

const DAYS_NOTE = 'Days as the team server counts them (its time zone); read from the team\'s daily aggregates.';

function days(r: { range: { days: string[] } }): string[] {
  return r.range.days;
}

export async function renderTeamCost(spec: RangeSpec): Promise<HTMLElement> {
  const d = await request('teamCost', spec);
  const members = d.members.map((r) => r.member);
  const total = d.members.reduce((s, r) => s + r.cost, 0);
  return h('div', { 'data-team': 'cost' },
    h('p', { class: 'muted' }, `${d.range.label} · team total `, h('strong', { 'data-metric': 'team-total-cost', 'data-value': String(total) }, money(total)),
      ` · ${int(members.length)} member(s) · ${DAYS_NOTE}`),
    chartSection('team-daily', 'Daily cost by member', () => ({
      type: 'bar',
      data: {
        labels: days(d),
        datasets: members.map((m, i) => ({
          label: m, stack: 'cost', backgroundColor: seriesColor(i),
          data: days(d).map((day) => d.daily.find((r) => r.day === day && r.member === m)?.cost ?? 0),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'USD' } } } },
    }), table('team-daily', 'Daily cost and requests by member', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'member', label: 'Member', value: (r) => r.member },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
    ], d.daily)),
    chartSection('team-members', 'Cost by member', () => ({
      type: 'bar',
      data: { labels: members, datasets: [{ label: 'Cost (USD)', data: d.members.map((r) => r.cost), backgroundColor: seriesColor(0) }] },
      options: { indexAxis: 'y', scales: { x: { beginAtZero: true, title: { display: true, text: 'USD' } } } },
    }), table('team-members', 'Cost by member', [
      { key: 'member', label: 'Member', value: (r) => r.member },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'tokens', label: 'Tokens', value: (r) => r.tokens, format: int },
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
      { key: 'chapters', label: 'Chapters', value: (r) => r.chapters, format: int },
    ], d.members)));
}

/** One words for an error kind: "rate_limit_error (429)" for API calls, "tool Bash: error" for tools. */
function kindLabel(k: ErrorKind): string {
  return k.event_type === 'tool_result' ? `tool ${orNone(k.tool_name)}: ${orNone(k.error_type)}`
    : `${orNone(k.error_type)} (${orNone(k.status_code)})${k.event_type === 'api_retries_exhausted' ? ', retries exhausted' : ''}`;
}

const KIND_COLUMNS = [
  { key: 'event_type', label: 'Event', value: (r: ErrorKind) => r.event_type },
  { key: 'error_type', label: 'Error type', value: (r: ErrorKind) => r.error_type, format: orNone },
  { key: 'status_code', label: 'Status', value: (r: ErrorKind) => r.status_code, format: orNone },
  { key: 'tool_name', label: 'Tool', value: (r: ErrorKind) => r.tool_name, format: orNone },
];

export async function renderTeamErrors(spec: RangeSpec): Promise<HTMLElement> {
  const d = await request('teamErrors', spec);
  const apiErrors = d.rateByMember.reduce((s, r) => s + r.errors, 0);
  const kinds = [...new Set((d.daily ?? []).map(kindLabel))].sort();
  const patterns = d.patterns && d.daily && d.byMember ? { patterns: d.patterns, daily: d.daily, byMember: d.byMember } : undefined;
  return h('div', { 'data-team': 'errors' },
    h('p', { class: 'muted' }, `${d.range.label} · `, h('strong', { 'data-metric': 'team-api-errors', 'data-value': String(apiErrors) }, int(apiErrors)),
      ` API errors across the team · ${DAYS_NOTE}`),
    ...(patterns ? [
      chartSection('team-daily-errors', 'The team\'s errors per day by kind', () => ({
        type: 'bar',
        data: {
          labels: days(d),
          datasets: kinds.map((k, i) => ({
            label: k, stack: 'errors', backgroundColor: seriesColor(i),
            data: days(d).map((day) => patterns.daily.filter((r) => r.day === day && kindLabel(r) === k).reduce((a, r) => a + r.errors, 0)),
          })),
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
      }), table<ErrorPatternRow>('team-patterns', 'Error patterns: kinds, members and chapters affected (no message text)', [
        ...KIND_COLUMNS,
        { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
        { key: 'members', label: 'Members', value: (r) => r.members, format: int },
        { key: 'chapters', label: 'Chapters', value: (r) => r.chapters, format: int },
        { key: 'last_seen', label: 'Last day', value: (r) => r.last_seen },
      ], patterns.patterns)),
      section('team-errors-by-member', 'Which errors hit whom', table<MemberErrorKindRow>('team-errors-by-member', 'Errors by member and kind', [
        { key: 'member', label: 'Member', value: (r) => r.member },
        ...KIND_COLUMNS,
        { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
      ], patterns.byMember)),
    ] : [h('p', { class: 'muted', 'data-metric': 'no-daily-errors' }, 'This team server has no error rollup (daily_errors) yet: only API error counts per member are shown.')]),
    section('team-error-rate', 'API error rate by member', table('team-error-rate', 'API errors against requests per member', [
      { key: 'member', label: 'Member', value: (r) => r.member },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'errors', label: 'API errors', value: (r) => r.errors, format: int },
      { key: 'error_rate', label: 'Error rate', value: (r) => (r.requests + r.errors > 0 ? r.errors / (r.requests + r.errors) : 0), format: pct },
    ], d.rateByMember)));
}

export async function renderTeamChapters(spec: RangeSpec): Promise<HTMLElement> {
  const d = await request('teamChapters', spec);
  return h('div', { 'data-team': 'chapters' },
    h('p', { class: 'muted' }, `${d.range.label} · chapters as the terminals were tagged · ${DAYS_NOTE}`),
    chartSection('team-complexity', 'Tokens and contributors per chapter',
      () => tokensPerChapterChart(d.chapters, { label: 'Contributors', axis: 'Contributors', color: 2, value: (r) => r.contributors }), table<(typeof d.chapters)[number]>('team-complexity', 'Chapter complexity across contributors', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      ...complexityColumns(),
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
    ], d.chapters)),
    section('team-chapter-members', 'Who worked on which chapter', table('team-chapter-members', 'Tokens and cost per chapter and member', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      { key: 'member', label: 'Member', value: (r) => r.member },
      { key: 'tokens', label: 'Tokens', value: (r) => r.tokens, format: int },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
    ], d.byMember)));
}
