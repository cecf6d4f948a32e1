import type { ChartConfiguration } from 'chart.js';
import type { ChapterComplexityRow } from '../../core/queries';
import { drawChart, seriesColor } from '../charts';
import { h, type Column } from '../dom';
import { chapterName, int, money } from '../format';

/** A titled section: a chart (an image for assistive tech, described by the table that follows) and its table. */
export function chartSection(id: string, title: string, build: () => ChartConfiguration, tableEl: HTMLElement): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': `${title}; the table below has the same numbers` });
  queueMicrotask(() => drawChart(canvas, build));
  return h('section', { 'data-section': id }, h('h2', {}, title), h('div', { class: 'chart' }, canvas), tableEl);
}

export function section(id: string, title: string, ...children: (Node | string)[]): HTMLElement {
  return h('section', { 'data-section': id }, h('h2', {}, title), ...children);
}

/** Chart options for two value axes from zero: `left` on the left (y), `right` on the right (y1) without its own grid. */
export function twoAxes(left: string, right: string): NonNullable<ChartConfiguration['options']> {
  return {
    scales: {
      y: { beginAtZero: true, title: { display: true, text: left } },
      y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: right } },
    },
  };
}

/** The seed's chapter-complexity figures that follow the chapter column, one definition for the
 *  Personal/Project Chapters panel and the Team scope so the two tables keep the same columns. */
export function complexityColumns(): Column<ChapterComplexityRow>[] {
  return [
    { key: 'tokens', label: 'Tokens', value: (r) => r.tokens, format: int },
    { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
    { key: 'avg_tokens_per_request', label: 'Avg tokens / request', value: (r) => r.avg_tokens_per_request, format: (v: number) => v.toFixed(1) },
    { key: 'contributors', label: 'Contributors', value: (r) => r.contributors, format: int },
    { key: 'sessions', label: 'Sessions', value: (r) => r.sessions, format: int },
    { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
  ];
}

/** The chapter-complexity chart: a bar pair per chapter, tokens on the left axis and one more figure
 *  (`right`, drawn in series colour `color`) on the right. */
export function tokensPerChapterChart<R extends { chapter: string; tokens: number }>(
  rows: R[], right: { label: string; axis: string; color: number; value: (r: R) => number },
): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => chapterName(r.chapter)),
      datasets: [
        { label: 'Tokens', data: rows.map((r) => r.tokens), backgroundColor: seriesColor(0), yAxisID: 'y' },
        { label: right.label, data: rows.map(right.value), backgroundColor: seriesColor(right.color), yAxisID: 'y1' },
      ],
    },
    options: twoAxes('Tokens', right.axis),
  };
}
