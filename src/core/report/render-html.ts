/**
 * The weekly report as one self-contained HTML file: inline CSS, charts as inline SVG, no script,
 * no image, font or style sheet from anywhere (a Content-Security-Policy of `default-src 'none'`
 * makes sure), so it opens the same offline, attached to a mail or years later.
 */
import { change, int, pct, pointChange, usd } from './format';
import type { WeeklyReport } from './load';
import { patternLabel } from './team-section';
import { budgetLines, budgetSummary, perThousand, wordsRows } from './workspace-section';
import { totalsRows, whoLabel } from './render-markdown';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Bar {
  label: string;
  value: number;
  text: string;
}

/** Horizontal bars, one per row, labels left, values right; width fixed, height from the rows. */
export function barChart(title: string, bars: Bar[]): string {
  const rowH = 26;
  const labelW = 170;
  const barW = 360;
  const width = labelW + barW + 110;
  const height = 30 + Math.max(1, bars.length) * rowH;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = 30 + i * rowH;
    const w = max > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / max) * barW) : 0;
    const label = b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label;
    return `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(label)}</text>`
      + `<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2" class="bar"><title>${escapeHtml(`${b.label}: ${b.text}`)}</title></rect>`
      + `<text x="${labelW + w + 6}" y="${y + 16}">${escapeHtml(b.text)}</text>`;
  });
  const empty = bars.length === 0 ? `<text x="${labelW}" y="46">nothing this week</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`
    + `<text x="0" y="18" class="title">${escapeHtml(title)}</text>${rows.join('')}${empty}</svg>`;
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:760px;color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.sub{color:#59636e}table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .7rem;border-bottom:1px solid #eaeef2;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}svg{display:block;margin:.5rem 0;font-size:12px}svg .bar{fill:#0969da}svg .title{font-weight:600}
.cards{display:flex;gap:.8rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:120px}
.card b{display:block;font-size:1.3rem}.card span{color:#59636e;font-size:12px}`;

export function renderHtml(r: WeeklyReport): string {
  const t = r.totals;
  const card = (label: string, value: string, delta: string) => `<div class="card"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b><span>${escapeHtml(delta)} vs ${escapeHtml(r.previous.id)}</span></div>`;
  const body = [
    `<h1>Weekly report ${escapeHtml(r.week.id)}</h1>`,
    `<p class="sub">Week ${escapeHtml(r.week.start)} to ${escapeHtml(r.week.end)} (exclusive, UTC) · ${escapeHtml(whoLabel(r))}${r.source ? ` · from the ${escapeHtml(r.source)}` : ''}</p>`,
    `<div class="cards">${card('Cost (USD)', usd(t.cost), change(t.cost, r.previousTotals.cost))}${card('Requests', int(t.requests), change(t.requests, r.previousTotals.requests))}`
      + `${card('Error rate', pct(r.errorRate), pointChange(r.errorRate, r.previousErrorRate))}${card('Sessions', int(t.sessions), change(t.sessions, r.previousTotals.sessions))}</div>`,
    '<h2>Totals</h2>',
    table(['', r.week.id, r.previous.id, 'Change'], totalsRows(r)),
    '<h2>Cost by day</h2>',
    barChart('Cost by day (USD)', r.days.map((d) => ({ label: d.day, value: d.cost, text: usd(d.cost) }))),
    '<h2>Top chapters</h2>',
    barChart('Cost by chapter (USD)', r.chapters.map((c) => ({ label: c.chapter, value: c.cost, text: usd(c.cost) }))),
    table(['Chapter', 'Cost (USD)', 'Tokens', 'Requests'], r.chapters.map((c) => [c.chapter, usd(c.cost), int(c.tokens), int(c.requests)])),
    '<h2>Cost by model</h2>',
    barChart('Cost by model (USD)', r.models.map((m) => ({ label: m.model, value: m.cost, text: usd(m.cost) }))),
    table(['Model', 'Cost (USD)', 'Requests', 'Tokens'], r.models.map((m) => [m.model, usd(m.cost), int(m.requests), int(m.tokens)])),
    '<h2>Top error types</h2>',
    r.errorTypes.length
      ? barChart('API errors by type', r.errorTypes.map((e) => ({ label: e.error_type, value: e.errors, text: int(e.errors) })))
        + table(['Error type', 'Errors'], r.errorTypes.map((e) => [e.error_type, int(e.errors)]))
      : '<p>No API errors this week.</p>',
  ];
  const w = r.workspace;
  if (w) {
    const rows = wordsRows(r, w);
    body.push(
      '<h2>Budget (now)</h2>', `<p>${escapeHtml(budgetSummary(w))}.</p>`,
      budgetLines(w).length ? `<ul>${budgetLines(w).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
      '<h2>Words and cost per 1,000 words</h2>',
      rows.length ? table(['Chapter', 'Cost (USD)', 'Words', 'Cost / 1,000 words'], rows.map((x) => [x.chapter, usd(x.cost), int(x.words), perThousand(x.costPer1000Words)])) : '<p>No chapter had requests this week.</p>',
    );
  }
  const team = r.team;
  if (team) {
    body.push(
      `<h2>Team ${escapeHtml(team.team)}: cost by member</h2>`,
      barChart('Cost by member (USD)', team.members.map((m) => ({ label: m.member, value: m.cost, text: usd(m.cost) }))),
      table(['Member', 'Cost (USD)', 'Requests', 'Errors', 'Tokens', 'Chapters'], team.members.map((m) => [m.member, usd(m.cost), int(m.requests), int(m.errors), int(m.tokens), int(m.chapters)])),
      `<h2>Team ${escapeHtml(team.team)}: error patterns</h2>`,
      team.errorPatterns.length
        ? table(['Pattern', 'Errors', 'Members', 'Chapters', 'Last seen'], team.errorPatterns.map((p) => [patternLabel(p), int(p.errors), int(p.members), int(p.chapters), p.last_seen]))
        : '<p>No errors in the team this week.</p>',
      `<h2>Team ${escapeHtml(team.team)}: chapter complexity across contributors</h2>`,
      barChart('Tokens by chapter', team.chapters.map((c) => ({ label: c.chapter || '(none)', value: c.tokens, text: int(c.tokens) }))),
      table(['Chapter', 'Tokens', 'Requests', 'Tokens / request', 'Contributors', 'Cost (USD)'], team.chapters.map((c) => [c.chapter || '(none)', int(c.tokens), int(c.requests), int(c.avg_tokens_per_request), int(c.contributors), usd(c.cost)])),
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weekly report ${escapeHtml(r.week.id)}</title><style>${CSS}</style></head>
<body>${body.join('\n')}</body></html>
`;
}
