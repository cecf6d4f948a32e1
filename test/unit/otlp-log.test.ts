import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildFocusLogRequest, focusLogsUrl, unixNanoString } from '../../src/core/otlp-log';

type Attr = { key: string; value: { stringValue: string } };
const attrsOf = (list: Attr[]) => Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]));
/** The parts of the request these tests read. */
interface FocusRequest {
  resourceLogs: Array<{ resource: { attributes: Attr[] }; scopeLogs: Array<{ scope: { version: string }; logRecords: Array<{ timeUnixNano: string; attributes: Attr[] }> }> }>;
}

describe('chapter_focus OTLP JSON', () => {
  const time = new Date('2025-03-04T05:06:07.089Z');
  test('resource, scope and record attributes', () => {
    const req = buildFocusLogRequest({ chapter: '07-ctx', userId: 'alice', workspace: 'book', file: 'docs\\01-a\\07-ctx\\x.md', time, version: '0.1.0' }) as unknown as FocusRequest;
    const rl = req.resourceLogs[0]!;
    assert.deepEqual(attrsOf(rl.resource.attributes), { 'service.name': 'chapter-telemetry', user_id: 'alice' });
    const rec = rl.scopeLogs[0]!.logRecords[0]!;
    assert.equal(rec.timeUnixNano, '1741064767089000000');
    assert.deepEqual(attrsOf(rec.attributes), {
      'event.name': 'chapter_focus', 'event.timestamp': '2025-03-04T05:06:07.089Z', chapter: '07-ctx', user_id: 'alice', workspace: 'book', file: 'docs/01-a/07-ctx/x.md',
    });
    assert.equal(rl.scopeLogs[0]!.scope.version, '0.1.0');
  });
  test('file omitted when paths are off', () => {
    const req = buildFocusLogRequest({ chapter: 'ch1', userId: 'u', time }) as unknown as FocusRequest;
    assert.deepEqual(Object.keys(attrsOf(req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes)).sort(), ['chapter', 'event.name', 'event.timestamp', 'user_id']);
  });
  test('nanosecond strings are exact beyond 2^53', () => {
    assert.equal(unixNanoString(new Date(8_640_000_000_000_000)), '8640000000000000000000');
  });
  test('URL: http endpoint used as is; grpc goes to the OTLP HTTP port', () => {
    assert.equal(focusLogsUrl({ protocol: 'http/protobuf', host: '127.0.0.1', otlpHttpPort: 4318 }), 'http://127.0.0.1:4318/v1/logs');
    assert.equal(focusLogsUrl({ protocol: 'grpc', host: '0.0.0.0', otlpHttpPort: 5555 }), 'http://127.0.0.1:5555/v1/logs');
    assert.equal(focusLogsUrl({ protocol: 'http/json', endpoint: 'https://c.example/otlp/', host: 'x', otlpHttpPort: 1 }), 'https://c.example/otlp/v1/logs');
    assert.equal(focusLogsUrl({ protocol: 'grpc', endpoint: 'http://c.example:4317', host: 'x', otlpHttpPort: 4318 }), 'http://c.example:4318/v1/logs');
  });
});
