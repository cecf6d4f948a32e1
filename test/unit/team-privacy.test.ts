/**
 * The team privacy filter and identity stamp over the receiver's real row builder (logsToRows,
 * tracesToRows, metricsToRows), fed every attribute Claude Code 2.1.197 / 2.1.332 sent in the
 * reference runs (fixtures/claude-code-attributes.json). Content values are replaced by unique
 * markers, so "no marker in what would be stored" is checked on the stored text itself.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logsToRows, metricsToRows, tracesToRows, type LogsRequest, type MetricsRequest, type TableRows, type TracesRequest } from '../../src/server/otlp/rows';
import { applyTeamPolicy } from '../../src/server/team/privacy';
import { isContentAttribute } from '../../src/core/team-privacy';
import { attrs, logsRequest, nowNanos } from '../support/otlp';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures/claude-code-attributes.json'), 'utf8')) as {
  events: Record<string, Record<string, string>>;
  spans: Record<string, Record<string, string>>;
};

/** Decided here from reading the catalogues, independently of the filter's own list. */
const CONTENT_KEYS = new Set(['prompt', 'prompt_text', 'user_prompt', 'response', 'tool_parameters', 'tool_input', 'error', 'full_command', 'bash_argv0', 'file']);
const marker = (k: string) => `MARK-CONTENT-${k}`;

function withMarkers(a: Record<string, string>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) o[k] = CONTENT_KEYS.has(k) ? marker(k) : v;
  return o;
}

function claudeRows(): TableRows {
  const rows: TableRows = new Map();
  const events = Object.entries(fixture.events).map(([name, a]) => ({ name, attributes: withMarkers(a) }));
  // The extension's own chapter_focus record carries the file path.
  events.push({ name: 'chapter_focus', attributes: { chapter: 'ch05', user_id: 'alice', workspace: 'book', file: marker('file') } });
  logsToRows(logsRequest(events, { 'service.name': 'claude-code', user_id: 'alice', chapter: 'ch05' }) as LogsRequest, rows);
  // A log record that is not an event, with free text in its body.
  logsToRows({ resourceLogs: [{ resource: { attributes: attrs({ user_id: 'alice' }) }, scopeLogs: [{ logRecords: [{ timeUnixNano: nowNanos(), body: { stringValue: `${marker('body')} with spaces` } }] }] }] } as LogsRequest, rows);
  const spans = Object.entries(fixture.spans).map(([name, a], i) => ({
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: (i + 1).toString(16).padStart(16, '0'), name,
    startTimeUnixNano: nowNanos(), endTimeUnixNano: nowNanos(5),
    attributes: attrs(withMarkers(a)),
    status: { code: 2, message: marker('status') },
    events: [{ timeUnixNano: nowNanos(), name: 'exception', attributes: attrs({ 'exception.message': marker('exception.message'), 'exception.type': 'ShellError' }) }],
  }));
  tracesToRows({ resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'claude-code', user_id: 'alice' }) }, scopeSpans: [{ spans }] }] } as unknown as TracesRequest, rows);
  metricsToRows({ resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': 'claude-code', user_id: 'alice' }) }, scopeMetrics: [{ metrics: [
    { name: 'claude_code.cost.usage', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ asDouble: 0.5, timeUnixNano: nowNanos(), attributes: attrs({ model: 'claude-opus-5-5', 'session.id': 's1' }) }] } },
  ] }] }] } as unknown as MetricsRequest, rows);
  return rows;
}

const text = (rows: TableRows) => [...rows.values()].flat().join('\n');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows are JSON of the exporter's layout; the asserts check the shape
const parsed = (rows: TableRows, table: string) => (rows.get(table) ?? []).map((l) => JSON.parse(l) as Record<string, any>);

describe('team privacy: all', () => {
  test('stores content as sent (so the other levels are measured against something)', () => {
    const { rows, dropped } = applyTeamPolicy(claudeRows(), { member: 'bob', privacy: 'all' });
    assert.equal(dropped, 0);
    for (const k of CONTENT_KEYS) assert.ok(text(rows).includes(marker(k)), `${k} is in the input`);
  });
});

describe('team privacy: no-content', () => {
  const before = claudeRows();
  const { rows, dropped } = applyTeamPolicy(before, { member: 'bob', privacy: 'no-content' });
  test('no content value of any catalogued attribute, span status, span event or free-text body survives', () => {
    assert.equal(dropped, 0);
    assert.doesNotMatch(text(rows), /MARK-CONTENT/);
  });
  test('every record is kept, and what aggregates and error analysis need stays', () => {
    for (const [t, lines] of before) assert.equal(rows.get(t)?.length, lines.length, t);
    const logs = parsed(rows, 'otel_logs');
    const req = logs.find((r) => r.LogAttributes['event.name'] === 'api_request')!;
    assert.equal(req.LogAttributes.cost_usd, fixture.events.api_request!.cost_usd);
    assert.equal(req.LogAttributes.input_tokens, fixture.events.api_request!.input_tokens);
    const err = logs.find((r) => r.LogAttributes['event.name'] === 'api_error')!;
    assert.equal(err.LogAttributes.status_code, '429');
    assert.equal(err.LogAttributes.error, undefined);
    const tool = logs.find((r) => r.LogAttributes['event.name'] === 'tool_result')!;
    assert.equal(tool.LogAttributes.error_type, 'ShellError');
    assert.equal(tool.LogAttributes.tool_name, 'Bash');
    assert.equal(tool.LogAttributes.tool_input_size_bytes, '63');
    const prompt = logs.find((r) => r.LogAttributes['event.name'] === 'user_prompt')!;
    assert.equal(prompt.LogAttributes.prompt_length, fixture.events.user_prompt!.prompt_length);
    assert.equal(prompt.Body, 'claude_code.user_prompt', 'an event-name body is not content');
    const focus = logs.find((r) => r.LogAttributes['event.name'] === 'chapter_focus')!;
    assert.equal(focus.LogAttributes.chapter, 'ch05');
    assert.equal(focus.LogAttributes.file, undefined);
  });
  test('the shared list agrees with the keys read from the catalogues', () => {
    for (const k of CONTENT_KEYS) assert.ok(isContentAttribute(k), k);
    for (const k of ['cost_usd', 'error_type', 'status_code', 'prompt_length', 'tool_input_size_bytes', 'input_tokens', 'gen_ai.usage.input_tokens', 'session.id', 'model', 'chapter', 'message.uuid']) {
      assert.ok(!isContentAttribute(k), k);
    }
  });
});

describe('team privacy: aggregates-only', () => {
  const { rows, dropped } = applyTeamPolicy(claudeRows(), { member: 'bob', privacy: 'aggregates-only' });
  test('no traces, no non-event log, no content', () => {
    assert.equal(rows.get('otel_traces'), undefined);
    assert.ok(dropped >= Object.keys(fixture.spans).length + 1);
    assert.doesNotMatch(text(rows), /MARK-CONTENT/);
    assert.ok(parsed(rows, 'otel_logs').every((r) => r.LogAttributes['event.name']));
  });
  test('events keep exactly what the daily and session aggregates read', () => {
    const logs = parsed(rows, 'otel_logs');
    const req = logs.find((r) => r.LogAttributes['event.name'] === 'api_request')!;
    for (const k of ['event.timestamp', 'session.id', 'model', 'cost_usd', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens']) {
      assert.equal(req.LogAttributes[k], fixture.events.api_request![k], k);
    }
    assert.equal(req.LogAttributes.request_id, undefined);
    assert.equal(req.LogAttributes['anthropic.provider'], undefined);
    assert.deepEqual(Object.keys(req.ResourceAttributes).sort(), ['chapter', 'service.name', 'user_id']);
    assert.equal(parsed(rows, 'otel_metrics_sum')[0]!.Value, 0.5);
  });
});

describe('team identity stamp', () => {
  test('a record claiming user_id=alice sent with bob\'s credential is bob\'s, in resource and record attributes, at every level', () => {
    for (const privacy of ['all', 'no-content', 'aggregates-only'] as const) {
      const { rows } = applyTeamPolicy(claudeRows(), { member: 'bob', privacy });
      for (const [table, lines] of rows) {
        for (const l of lines) {
          const r = JSON.parse(l);
          assert.equal(r.ResourceAttributes.user_id, 'bob', `${privacy} ${table}`);
          for (const c of ['LogAttributes', 'Attributes', 'SpanAttributes']) if (r[c]?.user_id !== undefined) assert.equal(r[c].user_id, 'bob');
        }
      }
      assert.doesNotMatch(text(rows), /"user_id":"alice"/);
    }
  });
  test('a record without any resource gets one naming the member', () => {
    const rows: TableRows = new Map([['otel_logs', [JSON.stringify({ Body: 'x' })]]]);
    assert.equal(JSON.parse(applyTeamPolicy(rows, { member: 'carol', privacy: 'all' }).rows.get('otel_logs')![0]!).ResourceAttributes.user_id, 'carol');
  });
});
