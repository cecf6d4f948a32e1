/**
 * The receiver's otel_logs lines stay byte for byte what earlier versions made of the same requests (the export's
 * deduplication token hashes them, and the engine keeps stored tokens across an upgrade): fixtures/log-rows.golden.json
 * was written by the version that built each row as an object and JSON.stringify'd it, before log rows were written
 * directly as text. Protobuf and OTLP/JSON requests both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeExport } from '../../src/server/otlp/decode';
import { int64Text } from '../../src/server/otlp/values';
import { encodeLogs } from '../support/otlp';
import { logRowRequests } from './fixtures/log-rows-requests';
import Long from 'long';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'log-rows.golden.json'), 'utf8')) as { protobuf: string[][]; json: string[][] };

test('protobuf log requests give the same otel_logs lines as before', () => {
  const got = logRowRequests(false).map((r) => decodeExport('logs', encodeLogs(r), 'protobuf').rows.get('otel_logs'));
  assert.deepEqual(got, golden.protobuf);
});

test('OTLP/JSON log requests give the same otel_logs lines as before', () => {
  const got = logRowRequests(true).map((r) => decodeExport('logs', Buffer.from(JSON.stringify(r)), 'json').rows.get('otel_logs'));
  assert.deepEqual(got, golden.json);
});

test('64-bit integers from protobuf (Long) read as the same decimal text as Long.toString, at every range edge', () => {
  const values = ['0', '1', '-1', '4294967295', '4294967296', '-4294967296', '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
    '9223372036854775807', '-9223372036854775808', '1764490000123456789'];
  for (const v of values) {
    const signed = Long.fromString(v, false);
    assert.equal(int64Text(signed), signed.toString(), v);
    if (!v.startsWith('-')) {
      const unsigned = Long.fromString(v, true);
      assert.equal(int64Text(unsigned), unsigned.toString(), `${v} unsigned`);
    }
  }
  assert.equal(int64Text(Long.fromString('18446744073709551615', true)), '18446744073709551615');
  assert.equal(int64Text('123'), '123');
  assert.equal(int64Text(42), '42');
});
