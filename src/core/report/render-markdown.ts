/** The weekly report as Markdown: headings and tables, one number per cell. */
import { change, int, pct, pointChange, usd } from './format';
import type { WeeklyReport } from './load';
import { patternLabel } from './team-section';
import { budgetLines, budgetSummary, perThousand, wordsRows } from './workspace-section';

/**
 * A chapter or model name as table-cell text: the characters that would make a link, an image,
 * emphasis, HTML, code or a new cell are backslash-escaped; names stay readable (`claude-sonnet-4-5`).
 */
export function cell(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|!#~]/g, (c) => `\\${c}`);
}

export function totalsRows(r: WeeklyReport): [string, string, string, string][] {
  const t = r.totals;
  const p = r.previousTotals;
  const row = (label: string, a: number, b: number, f: (n: number) => string): [string, string, string, string] => [label, f(a), f(b), change(a, b)];
  return [
    row('Cost (USD)', t.cost, p.cost, usd),
    row('Requests', t.requests, p.requests, int),
    row('Errors', t.errors, p.errors, int),
    ['Error rate', pct(r.errorRate), pct(r.previousErrorRate), pointChange(r.errorRate, r.previousErrorRate)],
    row('Retries exhausted', t.retries_exhausted, p.retries_exhausted, int),
    row('Sessions', t.sessions, p.sessions, int),
    row('Input tokens', t.input_tokens, p.input_tokens, int),
    row('Output tokens', t.output_tokens, p.output_tokens, int),
    row('Cache read tokens', t.cache_read_tokens, p.cache_read_tokens, int),
    row('Cache creation tokens', t.cache_creation_tokens, p.cache_creation_tokens, int),
  ];
}

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export function whoLabel(r: WeeklyReport): string {
  return r.scope.all ? 'everyone' : r.scope.user;
}

export function renderMarkdown(r: WeeklyReport): string {
  const parts = [
    `# Weekly report ${r.week.id}`,
    '',
    `Week ${r.week.start} to ${r.week.end} (exclusive, UTC) · ${cell(whoLabel(r))}${r.source ? ` · from the ${cell(r.source)}` : ''} · compared with ${r.previous.id}`,
    '',
    '## Totals',
    '',
    table(['', r.week.id, r.previous.id, 'Change'], totalsRows(r), ['l', 'r', 'r', 'r']),
    '',
    '## Top error types',
    '',
    r.errorTypes.length ? table(['Error type', 'Errors'], r.errorTypes.map((e) => [cell(e.error_type), int(e.errors)]), ['l', 'r']) : 'No API errors this week.',
    '',
    '## Cost by day',
    '',
    table(['Day', 'Cost (USD)', 'Requests'], r.days.map((d) => [d.day, usd(d.cost), int(d.requests)]), ['l', 'r', 'r']),
    '',
    '## Top chapters by cost',
    '',
    r.chapters.length ? table(['Chapter', 'Cost (USD)', 'Tokens', 'Requests'], r.chapters.map((c) => [cell(c.chapter), usd(c.cost), int(c.tokens), int(c.requests)]), ['l', 'r', 'r', 'r']) : 'No requests this week.',
    '',
    '## Cost by model',
    '',
    r.models.length ? table(['Model', 'Cost (USD)', 'Requests', 'Tokens'], r.models.map((m) => [cell(m.model), usd(m.cost), int(m.requests), int(m.tokens)]), ['l', 'r', 'r', 'r']) : 'No requests this week.',
    '',
  ];
  const w = r.workspace;
  if (w) {
    const rows = wordsRows(r, w);
    parts.push(
      '## Budget (now)', '', `${budgetSummary(w)}.`, '', ...budgetLines(w).map((l) => `- ${cell(l)}`), '',
      '## Words and cost per 1,000 words', '',
      rows.length ? table(['Chapter', 'Cost (USD)', 'Words', 'Cost / 1,000 words'], rows.map((x) => [cell(x.chapter), usd(x.cost), int(x.words), perThousand(x.costPer1000Words)]), ['l', 'r', 'r', 'r']) : 'No chapter had requests this week.',
      '',
    );
  }
  const team = r.team;
  if (team) {
    parts.push(
      `## Team ${cell(team.team)}: cost by member`, '',
      team.members.length ? table(['Member', 'Cost (USD)', 'Requests', 'Errors', 'Tokens', 'Chapters'], team.members.map((m) => [cell(m.member), usd(m.cost), int(m.requests), int(m.errors), int(m.tokens), int(m.chapters)]), ['l', 'r', 'r', 'r', 'r', 'r']) : 'No member had requests this week.',
      '',
      `## Team ${cell(team.team)}: error patterns`, '',
      team.errorPatterns.length ? table(['Pattern', 'Errors', 'Members', 'Chapters', 'Last seen'], team.errorPatterns.map((p) => [cell(patternLabel(p)), int(p.errors), int(p.members), int(p.chapters), p.last_seen]), ['l', 'r', 'r', 'r', 'l']) : 'No errors in the team this week.',
      '',
      `## Team ${cell(team.team)}: chapter complexity across contributors`, '',
      team.chapters.length ? table(['Chapter', 'Tokens', 'Requests', 'Tokens / request', 'Contributors', 'Cost (USD)'], team.chapters.map((c) => [cell(c.chapter || '(none)'), int(c.tokens), int(c.requests), int(c.avg_tokens_per_request), int(c.contributors), usd(c.cost)]), ['l', 'r', 'r', 'r', 'r', 'r']) : 'No chapter had requests this week.',
      '',
    );
  }
  return parts.join('\n');
}
