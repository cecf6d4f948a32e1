/**
 * The ClickHouse-compatible HTTP endpoint: what curl users and @clickhouse/client rely on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { basicAuth, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';

let srv: RunningServer;
serverPerFile(async (s) => {
  srv = s;
  await srv.sql('CREATE TABLE IF NOT EXISTS http_t (id UInt32, name String, ts DateTime) ENGINE = MergeTree ORDER BY id');
});

/** A request as the writer: this file checks the protocol; test/server/lockdown.test.ts checks who may do what. */
async function call(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers; bytes: Buffer }> {
  const res = await fetch(`${srv.httpUrl}${path}`, { ...init, headers: { ...basicAuth(srv.credentials), ...(init.headers as Record<string, string> | undefined) } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, text: bytes.toString('utf8'), headers: res.headers, bytes };
}

describe('ClickHouse HTTP protocol', () => {
  test('ping and the bare root answer Ok.', async () => {
    assert.equal((await call('/ping')).text, 'Ok.\n');
    assert.equal((await call('/')).text, 'Ok.\n');
  });

  test('curl -G with --data-urlencode query=… FORMAT Pretty works as against ClickHouse', () => {
    const out = execFileSync('curl', ['-sS', '-G', srv.httpUrl, '--data-urlencode', 'query=SELECT 1 + 1 AS two FORMAT Pretty'], { encoding: 'utf8' });
    assert.match(out, /two/);
    assert.match(out, /│ +2 │/);
  });

  test('query in the body, in the URL, and both (URL query continued by the body)', async () => {
    assert.equal((await call('/', { method: 'POST', body: 'SELECT 40 + 2' })).text, '42\n');
    assert.equal((await call(`/?query=${encodeURIComponent('SELECT 7')}`)).text, '7\n');
    assert.equal((await call(`/?query=${encodeURIComponent('SELECT 1 +')}`, { method: 'POST', body: '2' })).text, '3\n');
  });

  test('parameters bind {name:Type} and never become SQL', async () => {
    const evil = "x' OR 1=1 --";
    const r = await call(`/?param_n=${encodeURIComponent(evil)}&param_k=5`, { method: 'POST', body: 'SELECT {n:String} AS n, {k:UInt8} * 2 AS k FORMAT JSONEachRow' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { n: evil, k: 10 });
    // Values arrive in ClickHouse's escaped text form, as clients send them: \' \\ \t \n.
    const escaped = await call(`/?param_s=${encodeURIComponent("it\\'s\\ta\\\\b\\n")}`, { method: 'POST', body: 'SELECT {s:String} AS s FORMAT JSONEachRow' });
    assert.deepEqual(JSON.parse(escaped.text), { s: "it's\ta\\b\n" });
  });

  test('default_format, database and settings from the URL', async () => {
    const r = await call('/?default_format=JSONEachRow&database=system', { method: 'POST', body: "SELECT name FROM tables WHERE name = 'one'" });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { name: 'one' });
    assert.equal(r.headers.get('x-clickhouse-format'), 'JSONEachRow');
    // A setting given in the URL takes effect: max_result_rows=1 with overflow mode throw fails a 3-row result.
    const limited = await call('/?max_result_rows=1&result_overflow_mode=throw', { method: 'POST', body: 'SELECT number FROM numbers(3)' });
    assert.notEqual(limited.status, 200);
    assert.match(limited.text, /Code: 396/);
    // …and the database switch did not leak into the next query.
    assert.equal((await call('/', { method: 'POST', body: 'SELECT currentDatabase()' })).text, 'default\n');
  });

  test('output formats: Pretty, CSVWithNames, TabSeparated, JSONEachRow, JSON and binary-safe Parquet', async () => {
    const q = (fmt: string) => call('/', { method: 'POST', body: `SELECT number AS n, toString(number * 2) AS s FROM numbers(3) FORMAT ${fmt}` });
    assert.match((await q('Pretty')).text, /┃ n ┃/);
    const csv = await q('CSVWithNames');
    assert.equal(csv.text, '"n","s"\n0,"0"\n1,"2"\n2,"4"\n');
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.equal((await q('TabSeparated')).text, '0\t0\n1\t2\n2\t4\n');
    assert.equal((await q('JSONEachRow')).text.trim().split('\n').length, 3);
    const json = JSON.parse((await q('JSON')).text);
    assert.equal(json.rows, 3);
    const pq = await q('Parquet');
    assert.equal(pq.bytes.subarray(0, 4).toString('latin1'), 'PAR1');
    assert.equal(pq.bytes.subarray(-4).toString('latin1'), 'PAR1');
    assert.equal(pq.headers.get('content-type'), 'application/octet-stream');
    // The Parquet bytes read back intact through the engine itself.
    await call('/?query=' + encodeURIComponent('CREATE TABLE IF NOT EXISTS pq_back (n UInt64, s String) ENGINE = Memory'), { method: 'POST' });
    const pqBase64 = pq.bytes.toString('base64');
    const back = await call('/', { method: 'POST', body: `SELECT sum(n), groupArray(s) FROM format(Parquet, base64Decode('${pqBase64}')) FORMAT TabSeparated` });
    assert.equal(back.text, "3\t['0','2','4']\n");
  });

  test('INSERT with rows in the body: JSONEachRow and CSVWithNames', async () => {
    const a = await call(`/?query=${encodeURIComponent('INSERT INTO http_t FORMAT JSONEachRow')}`, { method: 'POST', body: '{"id":1,"name":"a","ts":"2026-11-01 10:00:00"}\n{"id":2,"name":"b","ts":"2026-11-02 10:00:00"}\n' });
    assert.equal(a.status, 200, a.text);
    const b = await call(`/?query=${encodeURIComponent('INSERT INTO http_t (id, name) FORMAT CSVWithNames')}`, { method: 'POST', body: 'id,name\n3,"c, with comma"\n' });
    assert.equal(b.status, 200, b.text);
    assert.equal((await call('/', { method: 'POST', body: 'SELECT id, name FROM http_t ORDER BY id FORMAT CSV' })).text, '1,"a"\n2,"b"\n3,"c, with comma"\n');
  });

  test('errors look like ClickHouse errors', async () => {
    const unknown = await call('/', { method: 'POST', body: 'SELECT * FROM no_such_table' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('x-clickhouse-exception-code'), '60');
    assert.match(unknown.text, /^Code: 60\. DB::Exception: .*no_such_table/);
    const syntax = await call('/', { method: 'POST', body: 'SELEC 1' });
    assert.equal(syntax.status, 400);
    assert.equal(syntax.headers.get('x-clickhouse-exception-code'), '62');
    const readonly = await call(`/?query=${encodeURIComponent('DROP TABLE http_t')}`);
    assert.equal(readonly.status, 403);
    assert.match(readonly.text, /readonly/);
    assert.equal((await call('/', { method: 'POST', body: 'SELECT count() FROM http_t' })).status, 200, 'the GET did not drop the table');
    // Leading comments do not hide the statement from the read-only check, either way.
    assert.equal((await call(`/?query=${encodeURIComponent('-- a note\n/* more */ SELECT 3')}`)).text, '3\n');
    assert.equal((await call(`/?query=${encodeURIComponent('-- SELECT\nDROP TABLE http_t')}`)).status, 403);
    const badSetting = await call('/?max_threads=1;DROP', { method: 'POST', body: 'SELECT 1' });
    assert.equal(badSetting.status, 400);
    const nothing = await call('/', { method: 'POST', body: '' });
    assert.equal(nothing.status, 400);
  });

  test('gzip responses when asked, gzip request bodies', async () => {
    const r = await fetch(`${srv.httpUrl}/?enable_http_compression=1`, { method: 'POST', body: 'SELECT 5', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(await r.text(), '5\n'); // fetch inflates transparently
    const raw = execFileSync('curl', ['-sS', '-u', `${srv.credentials.user}:${srv.credentials.password}`, '-H', 'Accept-Encoding: gzip', '--data-binary', 'SELECT 6', `${srv.httpUrl}/?enable_http_compression=1`]);
    assert.equal(gunzipSync(raw).toString(), '6\n');
  });
});

describe('@clickhouse/client over plain HTTP', () => {
  let client: ClickHouseClient;
  before(() => {
    client = createClient({ url: srv.httpUrl, username: srv.credentials.user, password: srv.credentials.password });
  });
  after(async () => {
    await client?.close();
  });

  test('ping, query with parameters, insert, typed errors', async () => {
    const ping = await client.ping();
    assert.equal(ping.success, true);
    await client.insert({ table: 'http_t', values: [{ id: 10, name: 'from client', ts: '2026-11-03 00:00:00' }], format: 'JSONEachRow' });
    const rs = await client.query({ query: 'SELECT id, name FROM http_t WHERE id = {id:UInt32}', query_params: { id: 10 }, format: 'JSONEachRow' });
    assert.deepEqual(await rs.json(), [{ id: 10, name: 'from client' }]);
    const json = await client.query({ query: 'SELECT count() AS c FROM http_t', format: 'JSON' });
    const body = await json.json<{ c: string }>();
    assert.ok(Number(body.data[0]!.c) >= 4);
    await assert.rejects(client.query({ query: 'SELECT * FROM still_no_table' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, '60');
      return true;
    });
    await client.command({ query: 'CREATE TABLE IF NOT EXISTS via_command (x UInt8) ENGINE = Memory' });
    const exists = await client.query({ query: "EXISTS TABLE via_command", format: 'TabSeparated' });
    assert.equal((await exists.text()).trim(), '1');
  });
});
