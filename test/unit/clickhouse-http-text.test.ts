// The small text handling of the ClickHouse HTTP endpoint: where FROM INFILE goes in a normalised INSERT,
// which INSERTs take the body as their data, and multipart/form-data fields in the layout @clickhouse/client sends
// (the client itself is exercised in test/server/clickhouse-compat.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withInfile } from '../../src/server/store/spooled-insert';
import { insertAwaitsData } from '../../src/server/store/sql-text';
import { multipartBoundary, parseMultipart } from '../../src/server/clickhouse-http/params';

test('FROM INFILE goes after the column list (nested parentheses too), before SETTINGS and FORMAT', () => {
  assert.equal(withInfile('INSERT INTO t (* EXCEPT c) FORMAT RowBinary', '/d/f'), "INSERT INTO t (* EXCEPT c) FROM INFILE '/d/f' FORMAT RowBinary");
  assert.equal(withInfile("INSERT INTO db.t (a, b) SETTINGS format_csv_delimiter = ' FORMAT ' FORMAT CSV", '/d/f'), "INSERT INTO db.t (a, b) FROM INFILE '/d/f' SETTINGS format_csv_delimiter = ' FORMAT ' FORMAT CSV");
  assert.equal(withInfile('INSERT INTO t FORMAT Values', "/d/it's"), "INSERT INTO t FROM INFILE '/d/it\\'s' FORMAT Values");
  assert.throws(() => withInfile('SELECT 1 FORMAT CSV', '/d/f'), /not INSERT/);
});

test('an INSERT takes the body as data when its text ends with FORMAT X, not when it selects or has VALUES', () => {
  assert.equal(insertAwaitsData('INSERT INTO t (* EXCEPT (c)) FORMAT CSV'), true);
  assert.equal(insertAwaitsData('insert into t format JSONEachRow;\n-- done'), true);
  assert.equal(insertAwaitsData('INSERT INTO t VALUES'), false);
  assert.equal(insertAwaitsData("INSERT INTO t SELECT 'FORMAT CSV' FORMAT CSV"), false);
  assert.equal(insertAwaitsData('SELECT 1 FORMAT CSV'), false);
});

test('multipart/form-data fields in the layout @clickhouse/client sends; file parts refused', () => {
  const boundary = '----clickhouse-js-1234';
  const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.from(`${part('query', 'SELECT {v:Array(String)}')}${part('param_v', "['a\\'b','line\r\nbreak']")}--${boundary}--\r\n`);
  assert.equal(multipartBoundary(`multipart/form-data; boundary=${boundary}`), boundary);
  assert.deepEqual([...parseMultipart(body, boundary)], [['query', 'SELECT {v:Array(String)}'], ['param_v', "['a\\'b','line\r\nbreak']"]]);
  assert.equal(multipartBoundary('text/plain'), undefined);
  const file = Buffer.from(`--b\r\nContent-Disposition: form-data; name="t"; filename="t.csv"\r\n\r\n1,2\r\n--b--\r\n`);
  assert.throws(() => parseMultipart(file, 'b'), /external tables/);
});
