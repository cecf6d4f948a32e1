// forward.json's parser (src/core/forward-config.ts) and the team server's reading of a forward
// request's groups (src/server/team/forward-receiver.ts): every malformed input is one clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwardConfigError, forwardTargetKey, isHistoryDate, parseForwardConfig, type ForwardConfig } from '../../src/core/forward-config';
import { ForwardInputError, MAX_FORWARD_GROUPS, splitGroups } from '../../src/server/team/forward-receiver';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const good = { version: 1, enabled: true, team: 'T', member: 'alice', role: 'contributor', otlp_http: 'https://198.18.0.2:4318/', query_url: 'https://198.18.0.2:8123', ca_pem: PEM, secret: 's3cret', privacy: 'no-content', history: '2026-01-31' };

test('a valid forward.json parses; trailing slashes of URLs are dropped; drop_queue is kept', () => {
  const c = parseForwardConfig(JSON.stringify({ ...good, drop_queue: true }));
  assert.equal(c.otlp_http, 'https://198.18.0.2:4318');
  assert.equal(c.drop_queue, true);
  assert.equal(c.history, '2026-01-31');
  assert.equal(parseForwardConfig(JSON.stringify(good)).drop_queue, undefined);
});

test('each wrong field is named in the error', () => {
  const cases: Array<[Record<string, unknown> | string, RegExp]> = [
    ['{', /not JSON/],
    ['[]', /one JSON object/],
    [{ ...good, version: 2 }, /"version" must be 1/],
    [{ ...good, enabled: 'yes' }, /"enabled"/],
    [{ ...good, drop_queue: 1 }, /"drop_queue"/],
    [{ ...good, member: 'Alice' }, /"member"/],
    [{ ...good, role: 'boss' }, /"role"/],
    [{ ...good, privacy: 'some' }, /"privacy"/],
    [{ ...good, history: '2025-02-30' }, /"history"/],
    [{ ...good, history: 'yesterday' }, /"history"/],
    [{ ...good, otlp_http: 'http://198.18.0.2:4318' }, /must be https/],
    [{ ...good, query_url: 'not a url' }, /not a URL/],
    [{ ...good, ca_pem: 'abc' }, /PEM/],
    [{ ...good, secret: '' }, /"secret"/],
    [{ ...good, team: undefined }, /"team"/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseForwardConfig(typeof input === 'string' ? input : JSON.stringify(input)), (e: Error) => e instanceof ForwardConfigError && re.test(e.message), JSON.stringify(input));
  }
});

test('history dates are calendar days; the target key changes with team, member, endpoint and history only', () => {
  assert.ok(isHistoryDate('2024-02-29'));
  assert.ok(!isHistoryDate('2023-02-29'));
  assert.ok(!isHistoryDate('2024-2-9'));
  const c = parseForwardConfig(JSON.stringify(good));
  const other: ForwardConfig = { ...c, privacy: 'all', enabled: false, secret: 'rotated' };
  assert.equal(forwardTargetKey(c), forwardTargetKey(other));
  for (const k of ['team', 'member', 'otlp_http', 'history'] as const) assert.notEqual(forwardTargetKey(c), forwardTargetKey({ ...c, [k]: `${c[k]}x` }));
});

test('splitGroups: counts must be positive, add up to the lines, at most MAX_FORWARD_GROUPS, lines JSON objects', () => {
  const body = Buffer.from('{"a":1}\n{"a":2}\n{"a":3}\n');
  assert.deepEqual(splitGroups(body, '2,1'), [['{"a":1}', '{"a":2}'], ['{"a":3}']]);
  for (const h of [undefined, '', '4', '1,1', '0,3', '1,x,1', '1.5,1.5', '-1,4']) assert.throws(() => splitGroups(body, h), ForwardInputError, String(h));
  assert.throws(() => splitGroups(Buffer.from('[1]\n'), '1'), /not a JSON object/);
  assert.throws(() => splitGroups(Buffer.from('nope\n'), '1'), /not JSON/);
  const many = Array.from({ length: MAX_FORWARD_GROUPS + 1 }, () => '{}');
  assert.throws(() => splitGroups(Buffer.from(many.join('\n')), many.map(() => '1').join(',')), /at most/);
});
