/** Cost panel: daily cost and requests stacked by model, cost and tokens by chapter, tokens by type. */
import type { RangeSpec } from '../../core/analytics';
import { seriesColor } from '../charts';
import { h, table } from '../dom';
import { chapterName, int, money } from '../format';
import { request } from '../rpc';
import { chartSection } from './common';

const TOKEN_TYPES = [
  ['input_tokens', 'Input'], ['output_tokens', 'Output'], ['cache_read_tokens', 'Cache read'], ['cache_creation_tokens', 'Cache creation'],
] as const;

export async function renderCost(spec: RangeSpec): Promise<HTMLElement> {
  const d = await request('cost', spec);
  const days = d.range.days;
  const cell = (day: string, model: string) => d.daily.find((r) => r.day === day && r.model === model);
  const requestsPerDay = days.map((day) => d.daily.filter((r) => r.day === day).reduce((s, r) => s + r.requests, 0));
  const total = d.daily.reduce((s, r) => s + r.cost, 0);

  return h('div', {},
    h('p', { class: 'muted' }, `${d.range.label} · total `, h('strong', { 'data-metric': 'total-cost', 'data-value': String(total) }, money(total))),
    chartSection('daily', 'Daily cost by model, and API requests', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          ...d.models.map((m, i) => ({ type: 'bar' as const, label: m, data: days.map((day) => cell(day, m)?.cost ?? 0), backgroundColor: seriesColor(i), stack: 'cost', yAxisID: 'y' })),
          { type: 'line' as const, label: 'Requests', data: requestsPerDay, borderColor: seriesColor(d.models.length), backgroundColor: seriesColor(d.models.length), yAxisID: 'y1', pointRadius: 2 },
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
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'USD' } }, y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'Tokens' } } } },
    }), table('chapters', 'Cost and tokens by chapter', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      ...TOKEN_TYPES.map(([k, label]) => ({ key: k, label: `${label} tokens`, value: (r: (typeof d.chapters)[number]) => r[k], format: int })),
      { key: 'tokens', label: 'All tokens', value: (r) => r.tokens, format: int },
    ], d.chapters)),
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
