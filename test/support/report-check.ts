/** Checks a weekly report's Markdown number by number against SQL (shared by the server and cli tiers). */
import assert from 'node:assert/strict';
import type { RunningServer } from './server';

/** The Markdown's tables, by the heading above each: rows of cells (header and rule dropped). */
export function tables(md: string): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  let heading = '';
  for (const line of md.split('\n')) {
    if (line.startsWith('## ')) heading = line.slice(3);
    else if (line.startsWith('|') && !/^\|(-|:|\|)+$/.test(line.replace(/-+:?/g, '-'))) {
      const cells = line.slice(2, -2).split(' | ').map((c) => c.replace(/\\(.)/g, '$1'));
      if (!out.has(heading)) out.set(heading, []);
      out.get(heading)!.push(cells);
    }
  }
  for (const rows of out.values()) rows.shift(); // the header row
  return out;
}

async function tsv(srv: RunningServer, sql: string, params: Record<string, string>): Promise<string[][]> {
  const text = (await srv.sql(sql, params)).trimEnd();
  return text === '' ? [] : text.split('\n').map((l) => l.split('\t'));
}

const SCOPE = `({all:UInt8} = 1 OR user_id = {user:String})`;
export interface Week { from: string; to: string }
const IN = (w: Week) => `timestamp >= toDateTime64('${w.from}', 3, 'UTC') AND timestamp < toDateTime64('${w.to}', 3, 'UTC') AND ${SCOPE}`;

function pctChange(a: number, b: number): string {
  if (b === 0) return a === 0 ? '0.0%' : 'new';
  const c = ((a - b) / b) * 100;
  return `${c > 0 ? '+' : ''}${c.toFixed(1)}%`;
}

/**
 * Every number of a report's Markdown against independent SQL for the week `W48` and the one before
 * (`W47`); `expect` says what the data must contain so the check means something.
 */
export async function checkReport(srv: RunningServer, md: string, params: { all: string; user: string }, W48: Week, W47: Week,
  expect: { previousWeekRequests: boolean; models: number; minChapters: number } = { previousWeekRequests: true, models: 3, minChapters: 3 }): Promise<void> {
  const t = tables(md);
  const totalsSql = (w: Week) => `SELECT round(sum(if(event_type = 'api_request', cost_usd, 0)), 4), countIf(event_type = 'api_request'), countIf(event_type = 'api_error'),
      countIf(event_type = 'api_retries_exhausted'), uniqExact(if(session_id = '', NULL, session_id)),
      sum(if(event_type = 'api_request', input_tokens, 0)), sum(if(event_type = 'api_request', output_tokens, 0)),
      sum(if(event_type = 'api_request', cache_read_tokens, 0)), sum(if(event_type = 'api_request', cache_creation_tokens, 0))
    FROM telemetry_events WHERE ${IN(w)}`;
  const [now] = await tsv(srv, totalsSql(W48), params);
  const [prev] = await tsv(srv, totalsSql(W47), params);
  const n = now!.map(Number);
  const p = prev!.map(Number);
  assert.ok(n[1]! > 0 && n[2]! > 0, 'the week has requests and errors');
  if (expect.previousWeekRequests) assert.ok(p[1]! > 0, 'so has the week before');
  const totals = new Map(t.get('Totals')!.map((r) => [r[0], r.slice(1)]));
  const labels = ['Cost (USD)', 'Requests', 'Errors', 'Retries exhausted', 'Sessions', 'Input tokens', 'Output tokens', 'Cache read tokens', 'Cache creation tokens'];
  labels.forEach((label, i) => {
    const fmt = (v: number) => (i === 0 ? v.toFixed(4) : String(v));
    assert.deepEqual(totals.get(label), [fmt(n[i]!), fmt(p[i]!), pctChange(n[i]!, p[i]!)], label);
  });
  const rate = (x: number[]) => (x[1]! + x[2]! === 0 ? 0 : x[2]! / (x[1]! + x[2]!));
  const d = (rate(n) - rate(p)) * 100;
  assert.deepEqual(totals.get('Error rate'), [`${(rate(n) * 100).toFixed(2)}%`, `${(rate(p) * 100).toFixed(2)}%`, `${d > 0 ? '+' : ''}${d.toFixed(2)} pp`]);

  const errs = await tsv(srv, `SELECT toString(error_type) AS e, count() AS c FROM telemetry_events WHERE ${IN(W48)} AND event_type = 'api_error' GROUP BY e ORDER BY c DESC, e LIMIT 5`, params);
  assert.deepEqual(new Set(errs.map((r) => r[0])), new Set(['rate_limit_error', 'overloaded_error']), 'a 429 and a 529 in the week');
  assert.deepEqual(t.get('Top error types'), errs);

  const days = await tsv(srv, `SELECT toString(d), round(sum(c), 4), sum(r) FROM (
      SELECT toDate(timestamp) AS d, if(event_type = 'api_request', cost_usd, 0) AS c, event_type = 'api_request' AS r FROM telemetry_events WHERE ${IN(W48)}
      UNION ALL SELECT toDate('${W48.from}') + number, 0, 0 FROM numbers(7)) GROUP BY d ORDER BY d`, params);
  assert.equal(days.length, 7);
  assert.deepEqual(t.get('Cost by day'), days.map(([day, c, r]) => [day!, Number(c).toFixed(4), r!]));

  const chapters = await tsv(srv, `SELECT if(chapter = '', '(none)', chapter) AS ch, round(sum(cost_usd), 4) AS c, sum(token_count), count()
      FROM events_attributed WHERE ${IN(W48)} AND event_type = 'api_request' GROUP BY ch ORDER BY sum(cost_usd) DESC, ch LIMIT 10`, params);
  assert.ok(chapters.length >= expect.minChapters, 'several chapters');
  assert.deepEqual(t.get('Top chapters by cost'), chapters.map(([ch, c, tok, r]) => [ch!, Number(c).toFixed(4), tok!, r!]));

  const models = await tsv(srv, `SELECT toString(model) AS m, round(sum(cost_usd), 4), count(), sum(token_count)
      FROM telemetry_events WHERE ${IN(W48)} AND event_type = 'api_request' GROUP BY m ORDER BY sum(cost_usd) DESC, m`, params);
  assert.equal(models.length, expect.models, 'models');
  assert.deepEqual(t.get('Cost by model'), models.map(([m, c, r, tok]) => [m!, Number(c).toFixed(4), r!, tok!]));
}

