import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkJoin, dropHeaderLines, intoOutfile, pipedText } from '../../src/server/store/stream-formats';

test('formats that are one document never stream; …WithNames drop their header from later chunks', () => {
  assert.deepEqual(chunkJoin('Parquet'), { kind: 'file' });
  assert.deepEqual(chunkJoin('Arrow'), { kind: 'file' });
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

test('INTO OUTFILE goes in front of the statement\'s own FORMAT clause, SETTINGS kept', () => {
  assert.equal(intoOutfile('SELECT 1 FORMAT Parquet', "'/t/f'"), "SELECT 1 INTO OUTFILE '/t/f' FORMAT Parquet");
  assert.equal(intoOutfile('SELECT a FROM t WHERE x = {x:Date} FORMAT Parquet SETTINGS max_threads = 1;\n-- c', "'/f'"),
    "SELECT a FROM t WHERE x = {x:Date} INTO OUTFILE '/f' FORMAT Parquet SETTINGS max_threads = 1");
  assert.equal(intoOutfile('SELECT 1', "'/f'"), undefined);
});

test('CSV and TSV families are written by the engine into a pipe; JSON rows keep the chunked stream', () => {
  for (const f of ['CSV', 'CSVWithNames', 'TSV', 'TabSeparatedWithNamesAndTypes', 'TSVRaw']) assert.ok(pipedText(f), f);
  for (const f of ['JSONEachRow', 'JSONCompactEachRow', 'Values', 'Parquet']) assert.ok(!pipedText(f), f);
});
