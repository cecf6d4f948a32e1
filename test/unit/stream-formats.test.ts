import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkJoin, dropHeaderLines } from '../../src/server/store/stream-formats';

test('formats that are one document never stream; …WithNames drop their header from later chunks', () => {
  assert.deepEqual(chunkJoin('Parquet'), { kind: 'whole' });
  assert.deepEqual(chunkJoin('JSON'), { kind: 'whole' });
  assert.deepEqual(chunkJoin('RowBinaryWithNamesAndTypes'), { kind: 'whole' });
  assert.deepEqual(chunkJoin('CSVWithNames'), { kind: 'strip-header', lines: 1 });
  assert.deepEqual(chunkJoin('TSVWithNamesAndTypes'), { kind: 'strip-header', lines: 2 });
  assert.deepEqual(chunkJoin('JSONEachRow'), { kind: 'concat' });
  assert.deepEqual(chunkJoin('CSV'), { kind: 'concat' });
});

test('header lines are cut at newlines outside quotes', () => {
  const chunk = Buffer.from('"a","b\nc"\n1,2\n3,4\n');
  assert.equal(Buffer.from(dropHeaderLines(chunk, 1)).toString(), '1,2\n3,4\n');
  assert.equal(Buffer.from(dropHeaderLines(Buffer.from('a\tb\nString\tUInt8\nx\t1\n'), 2)).toString(), 'x\t1\n');
  assert.equal(dropHeaderLines(Buffer.from('a,b'), 1).length, 0);
});
