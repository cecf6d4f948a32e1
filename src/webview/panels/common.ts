import type { ChartConfiguration } from 'chart.js';
import { drawChart } from '../charts';
import { h } from '../dom';

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
