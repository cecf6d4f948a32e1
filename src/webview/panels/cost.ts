/** Cost panel: daily cost and requests stacked by model, cost and tokens by chapter, tokens by type. */
import type { RangeSpec } from '../../core/analytics';
import { weekToDate } from '../../core/budget';
import { seriesColor } from '../charts';
import { h, table } from '../dom';
import { chapterName, int, money } from '../format';
import { request } from '../rpc';
import { hiddenNote } from '../scope';
import { chartSection, twoAxes } from './common';

const TOKEN_TYPES = [
  ['input_tokens', 'Input'], ['output_tokens', 'Output'], ['cache_read_tokens', 'Cache read'], ['cache_creation_tokens', 'Cache creation'],
] as const;

export async function renderCost(spec: RangeSpec, showAll: () => void): Promise<HTMLElement> {
  const d = await request('cost', spec);
  const days = d.range.days;
  const cell = (day: string, model: string) => d.daily.find((r) => r.day === day && r.model === model);
  const requestsPerDay = days.map((day) => d.daily.filter((r) => r.day === day).reduce((s, r) => s + r.requests, 0));
  const total = d.daily.reduce((s, r) => s + r.cost, 0);
  const lim = d.limits;
  // Limit lines are plain line datasets (no chart.js plugin): a constant series on the USD axis, in their own stack
  // group so they are not stacked onto the cost bars, dashed and without points.
  const limitLine = (label: string, data: (number | null)[], colour: number) => ({
    type: 'line' as const, label, data, borderColor: seriesColor(colour), backgroundColor: seriesColor(colour), borderDash: [6, 4],
    pointRadius: 0, borderWidth: 2, yAxisID: 'y', stack: `limit-${label}`,
  });
  const costPerDay = days.map((day) => ({ day, cost: d.daily.filter((r) => r.day === day).reduce((s, r) => s + r.cost, 0) }));
  const limitsText = lim ? [
    lim.dailyUsd > 0 ? `daily limit ${money(lim.dailyUsd)}` : '',
    lim.weeklyUsd > 0 ? `weekly limit ${money(lim.weeklyUsd)}` : '',
    Object.keys(lim.chapters).length > 0 ? `${Object.keys(lim.chapters).length} chapter limit(s)` : '',
  ].filter(Boolean).join(' · ') : '';

  return h('div', {},
    hiddenNote(d, showAll),
    h('p', { class: 'muted' }, `${d.range.label} · total `, h('strong', { 'data-metric': 'total-cost', 'data-value': String(total) }, money(total)),
      ...(limitsText ? [' · ', h('span', { 'data-metric': 'limits', 'data-daily': String(lim?.dailyUsd ?? 0), 'data-weekly': String(lim?.weeklyUsd ?? 0) }, limitsText)] : [])),
    chartSection('daily', 'Daily cost by model, and API requests', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          ...d.models.map((m, i) => ({ type: 'bar' as const, label: m, data: days.map((day) => cell(day, m)?.cost ?? 0), backgroundColor: seriesColor(i), stack: 'cost', yAxisID: 'y' })),
          { type: 'line' as const, label: 'Requests', data: requestsPerDay, borderColor: seriesColor(d.models.length), backgroundColor: seriesColor(d.models.length), yAxisID: 'y1', pointRadius: 2 },
          ...(lim && lim.dailyUsd > 0 ? [limitLine('Daily limit', days.map(() => lim.dailyUsd), 4)] : []),
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'USD' } }, y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'Requests' } } } },
    }), table('daily', 'Daily cost and requests by model', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'model', label: 'Model', value: (r) => r.model },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
    ], d.daily)),
    chartSection('chapters', 'Cost and tokens by chapter', () => ({
      type: 'bar',
      data: {
        labels: d.chapters.map((r) => chapterName(r.chapter)),
        datasets: [
          { label: 'Cost (USD)', data: d.chapters.map((r) => r.cost), backgroundColor: seriesColor(0), yAxisID: 'y' },
          { label: 'Tokens', data: d.chapters.map((r) => r.tokens), backgroundColor: seriesColor(1), yAxisID: 'y1' },
          // Each chapter's own limit (over its whole spend) as a dash at its height; no line joins different chapters.
          ...(lim && Object.keys(lim.chapters).length > 0 ? [{
            type: 'line' as const, label: 'Chapter limit (whole spend)', data: d.chapters.map((r) => lim.chapters[r.chapter] ?? null), showLine: false,
            pointStyle: 'line' as const, pointRadius: 14, pointBorderWidth: 3, borderColor: seriesColor(4), backgroundColor: seriesColor(4), yAxisID: 'y',
          }] : []),
        ],
      },
      options: twoAxes('USD', 'Tokens'),
    }), table('chapters', 'Cost and tokens by chapter', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      ...TOKEN_TYPES.map(([k, label]) => ({ key: k, label: `${label} tokens`, value: (r: (typeof d.chapters)[number]) => r[k], format: int })),
      { key: 'tokens', label: 'All tokens', value: (r) => r.tokens, format: int },
    ], d.chapters)),
    ...(lim && lim.weeklyUsd > 0 ? [chartSection('week', 'Week-to-date cost and the weekly limit', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          { type: 'bar' as const, label: 'Week to date (USD)', data: weekToDate(costPerDay).map((r) => r.cost), backgroundColor: seriesColor(0), yAxisID: 'y', stack: 'week' },
          limitLine('Weekly limit', days.map(() => lim.weeklyUsd), 4),
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'USD' } } } },
    }), table('week', 'Week-to-date cost per day', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'cost', label: 'Week to date (USD)', value: (r) => r.cost, format: money },
    ], weekToDate(costPerDay)))] : []),
    chartSection('tokens', 'Tokens by type', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: TOKEN_TYPES.map(([k, label], i) => ({ label, data: d.tokens.map((r) => r[k]), backgroundColor: seriesColor(i), stack: 'tokens' })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }), table('tokens', 'Tokens by type per day', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      ...TOKEN_TYPES.map(([k, label]) => ({ key: k, label, value: (r: (typeof d.tokens)[number]) => r[k], format: int })),
    ], d.tokens.filter((r) => TOKEN_TYPES.some(([k]) => r[k] > 0)))));
}
