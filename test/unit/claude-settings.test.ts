import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mergeClaudeSettings, unmergeClaudeSettings, SettingsParseError } from '../../src/core/claude-settings';

const vars = { CLAUDE_CODE_ENABLE_TELEMETRY: '1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' };

describe('settings.local.json merge/unmerge', () => {
  test('empty file: creates env, removal gives back an empty object', () => {
    const m = mergeClaudeSettings('', vars);
    assert.deepEqual(JSON.parse(m.text), { env: vars });
    assert.equal(m.written.createdEnv, true);
    const u = unmergeClaudeSettings(m.text, m.written);
    assert.deepEqual(JSON.parse(u.text), {});
    assert.equal(u.empty, true);
  });
  test('other keys, other env vars and indentation are kept', () => {
    const orig = '{\n    "permissions": {\n        "defaultMode": "plan"\n    },\n    "env": {\n        "FOO": "bar"\n    }\n}\n';
    const m = mergeClaudeSettings(orig, vars);
    assert.match(m.text, /\n {4}"permissions"/);
    assert.deepEqual(JSON.parse(m.text), { permissions: { defaultMode: "plan" }, env: { FOO: 'bar', ...vars } });
    const u = unmergeClaudeSettings(m.text, m.written);
    assert.equal(u.text, orig);
    assert.equal(u.empty, false);
  });
  test('a key the user had before is restored, not deleted', () => {
    const orig = JSON.stringify({ env: { CLAUDE_CODE_ENABLE_TELEMETRY: '0' } }, null, 2) + '\n';
    const m = mergeClaudeSettings(orig, vars);
    assert.equal(JSON.parse(m.text).env.CLAUDE_CODE_ENABLE_TELEMETRY, '1');
    assert.equal(unmergeClaudeSettings(m.text, m.written).text, orig);
  });
  test('a key the user changed after we wrote it is left alone', () => {
    const m = mergeClaudeSettings('{}', vars);
    const edited = JSON.parse(m.text);
    edited.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://elsewhere:4317';
    const u = unmergeClaudeSettings(JSON.stringify(edited), m.written);
    assert.deepEqual(JSON.parse(u.text), { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://elsewhere:4317' } });
  });
  test('re-merge with new values keeps the original previous value and drops keys no longer wanted', () => {
    const orig = JSON.stringify({ env: { CLAUDE_CODE_ENABLE_TELEMETRY: '0' } });
    const m1 = mergeClaudeSettings(orig, { ...vars, OTEL_LOG_USER_PROMPTS: '1' });
    const m2 = mergeClaudeSettings(m1.text, { ...vars, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, m1.written);
    const env2 = JSON.parse(m2.text).env;
    assert.equal(env2.OTEL_LOG_USER_PROMPTS, undefined);
    assert.equal(env2.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4318');
    assert.equal(m2.written.entries.CLAUDE_CODE_ENABLE_TELEMETRY!.previous, '0');
    assert.deepEqual(JSON.parse(unmergeClaudeSettings(m2.text, m2.written).text), { env: { CLAUDE_CODE_ENABLE_TELEMETRY: '0' } });
  });
  test('same values → unchanged text (no rewrite)', () => {
    const m1 = mergeClaudeSettings('{}', vars);
    const m2 = mergeClaudeSettings(m1.text, vars, m1.written);
    assert.equal(m2.changed, false);
    assert.equal(m2.text, m1.text);
  });
  test('CRLF files stay CRLF', () => {
    const m = mergeClaudeSettings('{\r\n  "a": 1\r\n}\r\n', vars);
    assert.ok(m.text.includes('\r\n') && !/[^\r]\n/.test(m.text));
  });
  test('invalid JSON or a non-object env is refused, never overwritten', () => {
    assert.throws(() => mergeClaudeSettings('{ "env": { ', vars), SettingsParseError);
    assert.throws(() => mergeClaudeSettings('{"env": "x"}', vars), /not an object/);
    assert.throws(() => mergeClaudeSettings('[1]', vars), /top level/);
  });
});

describe('non-string values the author had', () => {
  test('a number, a boolean or an object in env comes back exactly on removal', () => {
    const orig = JSON.stringify({ env: { OTEL_METRIC_EXPORT_INTERVAL: 60000, CLAUDE_CODE_ENABLE_TELEMETRY: false, X: { a: [1, 2] } }, cleanupPeriodDays: 30 }, null, 2) + '\n';
    const m = mergeClaudeSettings(orig, { OTEL_METRIC_EXPORT_INTERVAL: '10000', CLAUDE_CODE_ENABLE_TELEMETRY: '1' });
    const mid = JSON.parse(m.text);
    assert.equal(mid.cleanupPeriodDays, 30);
    assert.deepEqual(mid.env.X, { a: [1, 2] });
    // The record survives a round trip through workspace state (JSON).
    const written = JSON.parse(JSON.stringify(m.written));
    const u = unmergeClaudeSettings(m.text, written);
    assert.equal(u.text, orig);
    const back = JSON.parse(u.text);
    assert.equal(back.env.OTEL_METRIC_EXPORT_INTERVAL, 60000);
    assert.equal(back.env.CLAUDE_CODE_ENABLE_TELEMETRY, false);
  });
});
