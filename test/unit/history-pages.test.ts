/**
 * The history copy's page plan (src/stack/history-pages.ts) and its reading of a source's in-body error
 * (src/stack/migrate-history.ts): the pure parts. The plan against a real engine is in
 * test/server/migrate-history.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashConditions, packPartitions, partitionCondition, quantileLevels, rangeConditions, timeSplitExpression } from '../../src/stack/history-pages';
import { inBodyError } from '../../src/stack/migrate-history';
import { exceptionBlock } from '../../src/server/clickhouse-http/protocol';

test('small partitions share a page in order; a large one stands alone', () => {
  const parts = [{ id: 'a', rows: 3 }, { id: 'b', rows: 4 }, { id: 'c', rows: 20 }, { id: 'd', rows: 1 }, { id: 'e', rows: 9 }, { id: 'f', rows: 2 }];
  assert.deepEqual(packPartitions(parts, 10).map((g) => g.map((p) => p.id)), [['a', 'b'], ['c'], ['d', 'e'], ['f']]);
  assert.deepEqual(packPartitions([], 10), []);
  assert.equal(partitionCondition([{ id: 'a', rows: 1 }]), "_partition_id = 'a'");
  assert.equal(partitionCondition([{ id: "x'y", rows: 1 }, { id: 'z\\', rows: 1 }]), "_partition_id IN ('x\\'y', 'z\\\\')");
});

test('ranges are half-open and cover the whole line once, whatever the values', () => {
  const conds = rangeConditions('t', ['10', '20', '-5']);
  assert.deepEqual(conds, ['t < 10', 't >= 10 AND t < 20', 't >= 20 AND t < -5', 't >= -5']);
  const sorted = rangeConditions('t', ['10', '20']);
  // Evaluated in JavaScript for every value around the bounds: exactly one range holds each.
  const holds = (c: string, v: number) => c.split(' AND ').every((p) => {
    const [, op, b] = /^t (<|>=) (-?\d+)$/.exec(p)!;
    return op === '<' ? v < Number(b) : v >= Number(b);
  });
  for (const v of [-1e18, 9, 10, 11, 19, 20, 21, 1e18]) assert.equal(sorted.filter((c) => holds(c, v)).length, 1, `value ${v}`);
  assert.deepEqual(rangeConditions('t', []), ['1']);
  assert.throws(() => rangeConditions('t', ['1); DROP TABLE x; --']), /not an integer bound/);
  assert.deepEqual(hashConditions(1), ['1']);
  assert.deepEqual(hashConditions(3), ['cityHash64(tuple(*)) % 3 = 0', 'cityHash64(tuple(*)) % 3 = 1', 'cityHash64(tuple(*)) % 3 = 2']);
});

test('a large partition is cut by its first non-null date-time column, in its own precision', () => {
  assert.equal(timeSplitExpression([{ name: 'Body', type: 'String' }, { name: 'Timestamp', type: "DateTime64(9, 'UTC')" }, { name: 'T2', type: 'DateTime' }]), 'toUnixTimestamp64Nano(`Timestamp`)');
  assert.equal(timeSplitExpression([{ name: 'n', type: 'Nullable(DateTime64(3))' }, { name: 'day`s', type: "DateTime('UTC')" }]), 'toUnixTimestamp(`day\\`s`)');
  assert.equal(timeSplitExpression([{ name: 'd', type: 'Date' }, { name: 's', type: 'String' }]), undefined);
  assert.deepEqual(quantileLevels(10, 10), []);
  assert.deepEqual(quantileLevels(11, 10), [0.5]);
  assert.deepEqual(quantileLevels(40, 10), [0.25, 0.5, 0.75]);
});

test("a source's error at the end of its body is recognised, with its message; data is not", () => {
  const tag = '0123456789abcdef';
  for (const message of ['Code: 241. DB::Exception: Memory limit exceeded. (MEMORY_LIMIT_EXCEEDED)', 'ends with digits 12345', 'é 😀']) {
    const body = Buffer.concat([Buffer.from([1, 2, 3, 0, 255]), Buffer.from(exceptionBlock(tag, message))]);
    assert.equal(inBodyError(body, tag), message);
  }
  assert.equal(inBodyError(Buffer.from(exceptionBlock('another-tag', 'x')), tag), undefined);
  assert.equal(inBodyError(Buffer.from('plain Native bytes'), tag), undefined);
  assert.equal(inBodyError(Buffer.alloc(0), tag), undefined);
});
