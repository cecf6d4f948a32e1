/** Chapters panel: the seed's chapter complexity (tokens, contributors, tokens per request) plus cost;
 *  a click on a chapter lists its sessions. */
import type { ChapterSessionRow, RangeSpec } from '../../core/analytics';
import { seriesColor } from '../charts';
import { h, replace, table } from '../dom';
import { asFailure, failureView } from '../failure';
import { chapterName, int, money } from '../format';
import { request } from '../rpc';
import { chartSection } from './common';

export async function renderChapters(spec: RangeSpec): Promise<HTMLElement> {
  const d = await request('chapters', spec);
  const sessions = h('div', { 'data-section': 'chapter-sessions' });
  const showChapter = async (chapter: string) => {
    replace(sessions, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const rows = await request('chapterSessions', { ...spec, chapter });
      replace(sessions, table<ChapterSessionRow>('chapter-sessions', `Sessions in ${chapterName(chapter)}`, [
        { key: 'session_id', label: 'Session', value: (r) => r.session_id },
        { key: 'author', label: 'Author', value: (r) => r.author },
        { key: 'first_seen', label: 'First', value: (r) => r.first_seen },
        { key: 'last_seen', label: 'Last', value: (r) => r.last_seen },
        { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
        { key: 'tokens', label: 'Tokens', value: (r) => r.tokens, format: int },
        { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
        { key: 'errors', label: 'Errors', value: (r) => r.errors, format: int },
      ], rows));
    } catch (e) {
      replace(sessions, failureView(asFailure(e)));
    }
  };
  return h('div', {},
    h('p', { class: 'muted' }, d.range.label),
    chartSection('complexity', 'Tokens and cost per chapter', () => ({
      type: 'bar',
      data: {
        labels: d.chapters.map((r) => chapterName(r.chapter)),
        datasets: [
          { label: 'Tokens', data: d.chapters.map((r) => r.tokens), backgroundColor: seriesColor(0), yAxisID: 'y' },
          { label: 'Cost (USD)', data: d.chapters.map((r) => r.cost), backgroundColor: seriesColor(1), yAxisID: 'y1' },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'Tokens' } }, y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'USD' } } } },
    }), table('complexity', 'Chapter complexity (click a chapter for its sessions)', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName, onClick: (r) => void showChapter(r.chapter) },
      { key: 'tokens', label: 'Tokens', value: (r) => r.tokens, format: int },
      { key: 'requests', label: 'Requests', value: (r) => r.requests, format: int },
      { key: 'avg_tokens_per_request', label: 'Avg tokens / request', value: (r) => r.avg_tokens_per_request, format: (v: number) => v.toFixed(1) },
      { key: 'contributors', label: 'Contributors', value: (r) => r.contributors, format: int },
      { key: 'sessions', label: 'Sessions', value: (r) => r.sessions, format: int },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
    ], d.chapters)),
    sessions);
}
