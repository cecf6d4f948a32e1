/** Errors panel: errors by type and status over time, error rate against requests, retries exhausted,
 *  top messages, affected sessions; a click on an error type lists its latest occurrences. */
import type { ErrorOccurrenceRow, RangeSpec } from '../../core/analytics';
import type { DayErrorRow, ErrorMessageRow } from '../../core/queries';
import { seriesColor } from '../charts';
import { h, replace, table } from '../dom';
import { asFailure, failureView } from '../failure';
import { chapterName, int, orNone, pct } from '../format';
import { request } from '../rpc';
import { hiddenNote } from '../scope';
import { chartSection, section } from './common';

export async function renderErrors(spec: RangeSpec, showAll: () => void): Promise<HTMLElement> {
  const d = await request('errors', spec);
  const days = d.range.days;
  const series = [...new Set(d.byTypeStatus.map((r) => `${orNone(r.error_type)} (${orNone(r.status_code)})`))].sort();
  const totalErrors = d.rate.reduce((s, r) => s + r.errors, 0);
  const totalRequests = d.rate.reduce((s, r) => s + r.requests, 0);
  const occurrences = h('div', { 'data-section': 'occurrences' });
  const showType = async (errorType: string) => {
    replace(occurrences, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const rows = await request('occurrences', { ...spec, errorType });
      replace(occurrences, table<ErrorOccurrenceRow>('occurrences', `Latest occurrences of ${orNone(errorType)}`, [
        { key: 'at', label: 'Time', value: (r) => r.at },
        { key: 'event_type', label: 'Event', value: (r) => r.event_type },
        { key: 'status_code', label: 'Status', value: (r) => r.status_code },
        { key: 'error_message', label: 'Message', value: (r) => r.error_message },
        { key: 'model', label: 'Model', value: (r) => r.model },
        { key: 'attempt', label: 'Attempt', value: (r) => r.attempt, format: int },
        { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
        { key: 'session_id', label: 'Session', value: (r) => r.session_id },
      ], rows));
    } catch (e) {
      replace(occurrences, failureView(asFailure(e)));
    }
  };
  const typeCell = { key: 'error_type', label: 'Error type', value: (r: { error_type: string }) => r.error_type, format: orNone, onClick: (r: { error_type: string }) => void showType(r.error_type) };

  return h('div', {},
    hiddenNote(d, showAll),
    h('p', { class: 'muted' }, `${d.range.label} · `,
      h('strong', { 'data-metric': 'errors', 'data-value': String(totalErrors) }, int(totalErrors)), ' errors in ',
      h('strong', { 'data-metric': 'requests', 'data-value': String(totalRequests) }, int(totalRequests)), ' requests · ',
      h('strong', { 'data-metric': 'retries_exhausted', 'data-value': String(d.retriesExhausted) }, int(d.retriesExhausted)), ' retries exhausted'),
    chartSection('by-type', 'Errors by type and status', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: series.map((s, i) => ({
          label: s, stack: 'errors', backgroundColor: seriesColor(i),
          data: days.map((day) => d.byTypeStatus.filter((r) => r.day === day && `${orNone(r.error_type)} (${orNone(r.status_code)})` === s).reduce((a, r) => a + r.errors, 0)),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    }), table<DayErrorRow>('by-type', 'Errors per day by type and status (click a type for its latest occurrences)', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      typeCell,
      { key: 'status_code', label: 'Status', value: (r) => r.status_code, format: orNone },
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
    ], d.byTypeStatus)),
    occurrences,
    chartSection('rate', 'Error rate against requests', () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          { type: 'bar' as const, label: 'Requests', data: d.rate.map((r) => r.requests), backgroundColor: seriesColor(0), yAxisID: 'y' },
          { type: 'bar' as const, label: 'Errors', data: d.rate.map((r) => r.errors), backgroundColor: seriesColor(4), yAxisID: 'y' },
          { type: 'line' as const, label: 'Error rate (%)', data: d.rate.map((r) => r.error_rate * 100), borderColor: seriesColor(1), backgroundColor: seriesColor(1), yAxisID: 'y1' },
        ],
      },
      options: { scales: { y: { beginAtZero: true }, y1: { position: 'right', beginAtZero: true, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: '%' } } } },
    }), table('rate', 'Requests, errors, error rate and retries exhausted per day', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
      { key: 'error_rate', label: 'Error rate', value: (r) => r.error_rate, format: pct },
      { key: 'retries_exhausted', label: 'Retries exhausted', value: (r) => r.retries_exhausted, format: int },
    ], d.rate.filter((r) => r.requests + r.errors + r.retries_exhausted > 0))),
    section('messages', 'Top error messages', table<ErrorMessageRow>('messages', 'Top error messages', [
      typeCell,
      { key: 'error_message', label: 'Message', value: (r) => r.error_message },
      { key: 'errors', label: 'Count', value: (r) => r.errors, format: int },
      { key: 'last_seen', label: 'Last seen', value: (r) => r.last_seen },
    ], d.messages)),
    section('sessions', 'Affected sessions', table('sessions', 'Sessions with errors', [
      { key: 'session_id', label: 'Session', value: (r) => r.session_id },
      { key: 'author', label: 'Author', value: (r) => r.author },
      { key: 'last_chapter', label: 'Chapter', value: (r) => r.last_chapter, format: chapterName },
      { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
      { key: 'retries_exhausted', label: 'Retries exhausted', value: (r) => r.retries_exhausted, format: int },
      { key: 'first_seen', label: 'First', value: (r) => r.first_seen },
      { key: 'last_seen', label: 'Last', value: (r) => r.last_seen },
    ], d.sessions)));
}
