/** Chapters panel: the seed's chapter complexity (tokens, contributors, tokens per request) plus cost;
 *  a click on a chapter lists its sessions. */
import type { ChapterSessionRow, RangeSpec } from '../../core/analytics';
import { seriesColor } from '../charts';
import { h, replace, table } from '../dom';
import { asFailure, failureView } from '../failure';
import { chapterName, int, money } from '../format';
import { request } from '../rpc';
import { hiddenNote } from '../scope';
import { chartSection, complexityColumns, tokensPerChapterChart } from './common';

const optional = (f: (v: number) => string) => (v: number | string) => (typeof v === 'number' ? f(v) : '—');

export async function renderChapters(spec: RangeSpec, showAll: () => void): Promise<HTMLElement> {
  const d = await request('chapters', spec);
  const pr = d.progress;
  const p = (chapter: string) => pr?.byChapter[chapter];
  // Progress columns only when the host counted the workspace; "—" where a ratio has no denominator.
  const progressColumns = pr ? [
    { key: 'words', label: 'Words', value: (r: (typeof d.chapters)[number]) => p(r.chapter)?.words ?? '', format: optional(int) },
    { key: 'cost_per_1000_words', label: 'Cost / 1,000 words', value: (r: (typeof d.chapters)[number]) => p(r.chapter)?.costPer1000Words ?? '', format: optional(money) },
    ...(pr.git ? [
      { key: 'words_added', label: 'Words added', value: (r: (typeof d.chapters)[number]) => p(r.chapter)?.wordsAdded ?? '', format: optional(int) },
      { key: 'tokens_per_word_added', label: 'Tokens / word added', value: (r: (typeof d.chapters)[number]) => p(r.chapter)?.tokensPerWordAdded ?? '', format: optional((v) => v.toFixed(1)) },
    ] : []),
  ] : [];
  const sessions = h('div', { 'data-section': 'chapter-sessions' });
  // A chapter's trend: its cost per day beside the words its git history added per day (when known).
  const trend = (chapter: string) => {
    const days = d.range.days;
    const cost = days.map((day) => d.dailyCost.find((r) => r.day === day && r.chapter === chapter)?.cost ?? 0);
    const words = days.map((day) => pr?.wordsPerDay.find((r) => r.day === day && r.chapter === chapter)?.added ?? 0);
    const rows = days.map((day, i) => ({ day, cost: cost[i]!, words: words[i]! })).filter((r) => r.cost !== 0 || r.words !== 0);
    return chartSection('chapter-trend', `${chapterName(chapter)}: cost and words added per day`, () => ({
      type: 'bar',
      data: {
        labels: days,
        datasets: [
          { type: 'bar' as const, label: 'Cost (USD)', data: cost, backgroundColor: seriesColor(1), yAxisID: 'y' },
          ...(pr?.git ? [{ type: 'line' as const, label: 'Words added', data: words, borderColor: seriesColor(2), backgroundColor: seriesColor(2), yAxisID: 'y1', pointRadius: 2 }] : []),
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'USD' } }, y1: { position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'Words' } } } },
    }), table('chapter-trend', `Cost and words added per day in ${chapterName(chapter)}`, [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'cost', label: 'Cost (USD)', value: (r) => r.cost, format: money },
      ...(pr?.git ? [{ key: 'words', label: 'Words added', value: (r: (typeof rows)[number]) => r.words, format: int }] : []),
    ], rows));
  };
  const showChapter = async (chapter: string) => {
    replace(sessions, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const rows = await request('chapterSessions', { ...spec, chapter });
      replace(sessions, trend(chapter), table<ChapterSessionRow>('chapter-sessions', `Sessions in ${chapterName(chapter)}`, [
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
    hiddenNote(d, showAll),
    h('p', { class: 'muted' }, d.range.label),
    chartSection('complexity', 'Tokens and cost per chapter',
      () => tokensPerChapterChart(d.chapters, { label: 'Cost (USD)', axis: 'USD', color: 1, value: (r) => r.cost }), table('complexity', 'Chapter complexity (click a chapter for its sessions)', [
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName, onClick: (r) => void showChapter(r.chapter) },
      ...complexityColumns(),
      ...progressColumns,
    ], d.chapters)),
    ...(pr ? [h('p', { class: 'muted', 'data-metric': 'progress-note', 'data-git': String(pr.git) },
      'Words: the chapter\'s text files now (front matter, code and markup left out). Cost / 1,000 words: this range\'s cost per 1,000 of those words.',
      pr.git ? ' Words added: net words the git history added in this range; tokens / word added divides this range\'s tokens by them.' : ' No git history here: words added are not known.')] : []),
    ...(pr && pr.wordsPerDay.length > 0 ? [chartSection('words-per-day', 'Words added per day (git)', () => {
      const days = [...new Set(pr.wordsPerDay.map((r) => r.day))];
      const chapters = [...new Set(pr.wordsPerDay.map((r) => r.chapter))];
      return {
        type: 'bar',
        data: {
          labels: days,
          datasets: chapters.map((c, i) => ({ label: chapterName(c), data: days.map((day) => pr.wordsPerDay.find((r) => r.day === day && r.chapter === c)?.added ?? 0), backgroundColor: seriesColor(i), stack: 'words' })),
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'Words' } } } },
      };
    }, table('words-per-day', 'Words added per day and chapter', [
      { key: 'day', label: 'Day', value: (r) => r.day },
      { key: 'chapter', label: 'Chapter', value: (r) => r.chapter, format: chapterName },
      { key: 'added', label: 'Words added', value: (r) => r.added, format: int },
    ], pr.wordsPerDay))] : []),
    sessions);
}
