/**
 * Issue 15, "behave like ClickHouse for what the real client exercises": each behaviour through the
 * official @clickhouse/client (the version node_modules pins) and/or real curl, against one built
 * server, written as the writer. What a behaviour does differently from ClickHouse, and why, is in
 * docs/ARCHITECTURE.md (ClickHouse HTTP endpoint).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createClient, isProgressRow, SettingsMap, TupleParam, type ClickHouseClient } from '@clickhouse/client';
import { basicAuth, startServer, type RunningServer } from '../support/server';

const run = promisify(execFile);
let srv: RunningServer;
let client: ClickHouseClient;
let engineVersion: string;

before(async () => {
  srv = await startServer();
  client = createClient({ url: srv.httpUrl, username: srv.credentials.user, password: srv.credentials.password });
  engineVersion = (await srv.sql('SELECT version()')).trim();
});
after(async () => {
  await client?.close();
  await srv?.stop();
});

/** curl as the writer; status, headers (lower-case names) and body bytes. */
async function curl(...args: string[]): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const { stdout } = await run('curl', ['-s', '-D', '-', '-u', `${srv.credentials.user}:${srv.credentials.password}`, ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const end = stdout.indexOf('\r\n\r\n');
  const head = stdout.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(head[0]!.split(' ')[1]), headers, body: stdout.subarray(end + 4) };
}

function q(sql: string, extra: Record<string, string> = {}): string {
  return `${srv.httpUrl}/?${new URLSearchParams({ query: sql, ...extra })}`;
}

async function rows(sql: string): Promise<string> {
  return (await srv.sql(sql)).trim();
}

describe('INSERT with URL settings', () => {
  before(async () => {
    await srv.sql('CREATE TABLE ins (a UInt32, b String, c UInt8 DEFAULT 7) ENGINE = MergeTree ORDER BY a');
  });

  test('INSERT … VALUES with its rows in the body and URL settings', async () => {
    const r = await curl('--data-binary', "(1,'one'),(2,'two, too')", q('INSERT INTO ins (a, b) VALUES', { max_threads: '2', max_insert_block_size: '1000' }));
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(await rows('SELECT a, b, c FROM ins WHERE a <= 2 ORDER BY a FORMAT CSV'), '1,"one",7\n2,"two, too",7');
  });

  test('INSERT … (* EXCEPT (c)) FORMAT … in the URL and inline in the body, with settings', async () => {
    const url = await curl('--data-binary', '{"a":3,"b":"three"}\n', q('INSERT INTO ins (* EXCEPT (c)) FORMAT JSONEachRow', { max_threads: '2' }));
    assert.equal(url.status, 200, url.body.toString());
    const inline = await curl('--data-binary', 'INSERT INTO ins (* EXCEPT (c)) FORMAT CSV\n4,four\n', `${srv.httpUrl}/?max_threads=2&input_format_csv_trim_whitespaces=1`);
    assert.equal(inline.status, 200, inline.body.toString());
    assert.equal(await rows('SELECT a, b, c FROM ins WHERE a IN (3, 4) ORDER BY a FORMAT CSV'), '3,"three",7\n4,"four",7');
  });

  test('a SETTINGS clause in the statement is the engine\'s to parse (a value with a comma and quotes)', async () => {
    const r = await curl('--data-binary', "6;'six, or so'\n", q("INSERT INTO ins (a, b) SETTINGS format_csv_delimiter = ';', format_csv_allow_single_quotes = 1 FORMAT CSV"));
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(await rows('SELECT b FROM ins WHERE a = 6'), 'six, or so');
  });

  test('@clickhouse/client insert with columns: { except } and clickhouse_settings', async () => {
    const res = await client.insert({ table: 'ins', values: [{ a: 5, b: 'five' }], format: 'JSONEachRow', columns: { except: ['c'] }, clickhouse_settings: { max_threads: 2, insert_deduplicate: 0 } });
    assert.equal(res.executed, true);
    assert.equal(await rows('SELECT b, c FROM ins WHERE a = 5 FORMAT CSV'), '"five",7');
  });
});

describe('setting values the engine accepts', () => {
  before(async () => {
    await srv.sql('CREATE TABLE flt (x UInt8, s String) ENGINE = MergeTree ORDER BY x');
    await srv.sql("INSERT INTO flt VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  });

  test('format_csv_delimiter, additional_table_filters, max_threads=auto as URL settings (curl)', async () => {
    const comma = await curl('--data-binary', 'SELECT x, s FROM flt ORDER BY x FORMAT CSV', `${srv.httpUrl}/?format_csv_delimiter=,`);
    assert.equal(comma.body.toString(), '1,"a"\n2,"b"\n3,"c"\n');
    const semi = await curl('--data-binary', 'SELECT x, s FROM flt ORDER BY x FORMAT CSV', `${srv.httpUrl}/?format_csv_delimiter=;`);
    assert.equal(semi.body.toString(), '1;"a"\n2;"b"\n3;"c"\n');
    const filtered = await curl('--data-binary', 'SELECT x FROM flt ORDER BY x', `${srv.httpUrl}/?${new URLSearchParams({ additional_table_filters: "{'flt':'x > 1'}" })}`);
    assert.equal(filtered.status, 200, filtered.body.toString());
    assert.equal(filtered.body.toString(), '2\n3\n');
    const auto = await curl('--data-binary', "SELECT getSetting('max_threads') > 0", `${srv.httpUrl}/?max_threads=auto`);
    assert.equal(auto.body.toString(), '1\n');
  });

  test("the writer's GET is read-only (readonly = 2) yet takes URL settings; an anonymous reader's setting answers 164", async () => {
    const get = await curl('-G', srv.httpUrl, '--data-urlencode', 'query=SELECT x, s FROM flt ORDER BY x FORMAT CSV', '--data-urlencode', 'format_csv_delimiter=;');
    assert.equal(get.body.toString(), '1;"a"\n2;"b"\n3;"c"\n');
    const lift = await curl('-G', srv.httpUrl, '--data-urlencode', "query=SELECT getSetting('readonly')", '--data-urlencode', 'readonly=0');
    assert.equal(lift.body.toString(), '2\n');
    const write = await curl('-G', srv.httpUrl, '--data-urlencode', "query=INSERT INTO flt VALUES (9, 'z')");
    assert.equal(write.status, 403);
    assert.equal(await rows('SELECT count() FROM flt'), '3');
    const anonymous = await fetch(`${srv.httpUrl}/?${new URLSearchParams({ query: 'SELECT 1', format_csv_delimiter: ';' })}`);
    assert.equal(anonymous.headers.get('x-clickhouse-exception-code'), '164');
  });

  test('the same through @clickhouse/client clickhouse_settings', async () => {
    const rs = await client.query({ query: 'SELECT x FROM flt ORDER BY x', format: 'JSONEachRow', clickhouse_settings: { additional_table_filters: SettingsMap.from({ flt: 'x < 3' }), max_threads: 'auto' as never } });
    assert.deepEqual(await rs.json(), [{ x: 1 }, { x: 2 }]);
  });
});

describe('param_ values as ClickHouse parses them', () => {
  test('tuples with quoted strings, arrays, maps and \\N as NULL (curl, escaped text as sent)', async () => {
    const r = await curl('--data-binary', 'SELECT {t:Tuple(String, Int8)} AS t, {a:Array(String)} AS a, {n:Nullable(String)} AS n, {m:Map(String, String)} AS m, {s:String} AS s FORMAT JSONEachRow',
      `${srv.httpUrl}/?${new URLSearchParams({ param_t: "('it\\'s',3)", param_a: "['x','y\\tz']", param_n: '\\N', param_m: "{'k':'v\\'w'}", param_s: 'tab\\there' })}`);
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(JSON.parse(r.body.toString()), { t: ["it's", 3], a: ['x', 'y\tz'], n: null, m: { k: "v'w" }, s: 'tab\there' });
  });

  test('an anonymous reader (GET) binds the same values: readonly = 1 does not stop param_', async () => {
    const r = await fetch(`${srv.httpUrl}/?${new URLSearchParams({ query: 'SELECT {t:Tuple(String, Int8)} AS t, {n:Nullable(UInt8)} AS n FORMAT JSONEachRow', param_t: "('q\\'d',-1)", param_n: '\\N' })}`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { t: ["q'd", -1], n: null });
  });

  test('@clickhouse/client query_params: TupleParam, arrays, null, strings with quotes and backslashes', async () => {
    const rs = await client.query({
      query: 'SELECT {t:Tuple(String, UInt8)} AS t, {a:Array(String)} AS a, {n:Nullable(String)} AS n, {s:String} AS s',
      query_params: { t: new TupleParam(["a'b\\c", 7]), a: ["q'uote", 'back\\slash'], n: null, s: "line\nbreak 'and' \\ tab\t" },
      format: 'JSONEachRow',
    });
    assert.deepEqual(await rs.json(), [{ t: ["a'b\\c", 7], a: ["q'uote", 'back\\slash'], n: null, s: "line\nbreak 'and' \\ tab\t" }]);
  });

  test('a value of one request never reaches the next (pooled sessions are not reused after SET param_)', async () => {
    await client.query({ query: 'SELECT {leak:String}', query_params: { leak: 'secret' } });
    await assert.rejects(client.query({ query: 'SELECT {leak:String}' }), (err: Error & { code?: string }) => err.code === '456');
  });
});

describe('errors', () => {
  test('a syntax error answers code 62, not implicit_select\'s 47 (curl and client)', async () => {
    const r = await curl(q('foobar'));
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-clickhouse-exception-code'], '62');
    await assert.rejects(client.query({ query: 'SELEC 1' }), (err: Error & { code?: string; type?: string }) => err.code === '62' && /Syntax error/.test(err.message));
  });

  test("the error text's version is the engine's (SELECT version()), not the package's", async () => {
    assert.match(engineVersion, /^\d+\.\d+\.\d+\.\d+$/);
    const r = await curl('--data-binary', 'SELECT * FROM no_such_table_here', srv.httpUrl);
    assert.match(r.body.toString(), new RegExp(`\\(version ${engineVersion.replace(/\./g, '\\.')}\\)\\n$`));
    assert.doesNotMatch(r.body.toString(), /\(version 0\.\d+\.\d+\)/);
  });

  test('with enable_http_compression=1 an error body is gzip-compressed too', async () => {
    const r = await curl('-H', 'Accept-Encoding: gzip', '--data-binary', 'SELECT * FROM still_not_here', `${srv.httpUrl}/?enable_http_compression=1`);
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(r.body).toString(), /^Code: 60\./);
  });
});

describe('wait_end_of_query=1', () => {
  test('an error after the first rows still answers with an error status, nothing of the rows (curl and client)', async () => {
    const sql = "SELECT number, throwIf(number = 30000, 'late boom') AS e FROM numbers(100000) SETTINGS max_block_size = 1000 FORMAT JSONEachRow";
    const streamed = await curl('--data-binary', sql, srv.httpUrl);
    assert.equal(streamed.status, 200, 'without it the status line goes out with the first rows');
    const held = await curl('--data-binary', sql, `${srv.httpUrl}/?wait_end_of_query=1`);
    assert.equal(held.status, 500);
    assert.equal(held.headers['x-clickhouse-exception-code'], '395');
    assert.match(held.body.toString(), /^Code: 395\. .*late boom/);
    await assert.rejects(client.query({ query: sql.replace(' FORMAT JSONEachRow', ''), format: 'JSONEachRow', clickhouse_settings: { wait_end_of_query: 1 } }), (err: Error & { code?: string }) => err.code === '395');
    const ok = await curl('--data-binary', 'SELECT number FROM numbers(3) FORMAT CSV', `${srv.httpUrl}/?wait_end_of_query=1`);
    assert.equal(ok.body.toString(), '0\n1\n2\n');
  });
});

describe('empty and binary inserts', () => {
  before(async () => {
    await srv.sql('CREATE TABLE bin (a UInt32, b String, c UInt8 DEFAULT 7) ENGINE = MergeTree ORDER BY a');
  });

  test('an empty insert inserts zero rows, no error (URL query, inline statement, client)', async () => {
    const url = await curl('--data-binary', '', q('INSERT INTO bin FORMAT CSV'));
    assert.equal(url.status, 200, url.body.toString());
    const inline = await curl('--data-binary', 'INSERT INTO bin FORMAT JSONEachRow', srv.httpUrl);
    assert.equal(inline.status, 200, inline.body.toString());
    await client.insert({ table: 'bin', values: [], format: 'JSONEachRow' });
    assert.equal(await rows('SELECT count() FROM bin'), '0');
  });

  for (const format of ['RowBinary', 'Native', 'Parquet']) {
    test(`${format} rows in the body (query in the URL, and inline after the statement)`, async () => {
      const base = format === 'RowBinary' ? 100 : format === 'Native' ? 200 : 300;
      const payload = (await curl('--data-binary', `SELECT toUInt32(number + ${base}) AS a, concat('v', toString(number)) AS b FROM numbers(3) FORMAT ${format}`, srv.httpUrl)).body;
      const sent = await fetch(q(`INSERT INTO bin (a, b) FORMAT ${format}`, { max_threads: '2' }), { method: 'POST', body: new Uint8Array(payload), headers: basicAuth(srv.credentials) });
      assert.equal(sent.status, 200, await sent.text());
      const inline = await fetch(srv.httpUrl, { method: 'POST', body: Buffer.concat([Buffer.from(`INSERT INTO bin (* EXCEPT (c)) FORMAT ${format}\n`), payload]), headers: basicAuth(srv.credentials) });
      assert.equal(inline.status, 200, await inline.text());
      assert.equal(await rows(`SELECT count(), min(a), max(a), arraySort(groupUniqArray(b)), min(c) FROM bin WHERE a BETWEEN ${base} AND ${base + 99}`), `6\t${base}\t${base + 2}\t['v0','v1','v2']\t7`);
      // The spooled body is gone once the insert answered.
      assert.deepEqual(readdirSync(join(srv.dataDir, 'user_files')), []);
    });
  }
});

describe('session_id sessions', () => {
  test('temporary tables and SET live in the session; another session (or none) does not see them', async () => {
    const s1 = 'compat-s1';
    await client.command({ query: 'CREATE TEMPORARY TABLE tmp_rows (x UInt8)', session_id: s1 });
    await client.command({ query: 'INSERT INTO tmp_rows VALUES (1), (2)', session_id: s1 });
    await client.command({ query: 'SET max_threads = 3', session_id: s1 });
    const rs = await client.query({ query: "SELECT sum(x) AS s, getSetting('max_threads') AS t FROM tmp_rows", session_id: s1, format: 'JSONEachRow' });
    assert.deepEqual(await rs.json(), [{ s: 3, t: 3 }]);
    await assert.rejects(client.query({ query: 'SELECT * FROM tmp_rows', session_id: 'compat-other' }), (err: Error & { code?: string }) => err.code === '60');
    await assert.rejects(client.query({ query: 'SELECT * FROM tmp_rows' }), (err: Error & { code?: string }) => err.code === '60');
    // The reader (GET) with the same id has its own session: the writer's table is not there.
    const reader = await fetch(`${srv.httpUrl}/?${new URLSearchParams({ query: 'SELECT count() FROM tmp_rows', session_id: s1 })}`);
    assert.equal(reader.status, 404);
    // URL settings apply to their request only, as in ClickHouse: the session's SET stays.
    const once = await curl('--data-binary', "SELECT getSetting('max_threads')", `${srv.httpUrl}/?session_id=${s1}&max_threads=5`);
    assert.equal(once.body.toString(), '5\n');
    const after = await curl('--data-binary', "SELECT getSetting('max_threads')", `${srv.httpUrl}/?session_id=${s1}`);
    assert.equal(after.body.toString(), '3\n');
    // So does ?database=: the session's own USE is what stays.
    assert.equal((await curl('--data-binary', 'SELECT currentDatabase()', `${srv.httpUrl}/?session_id=${s1}&database=system`)).body.toString(), 'system\n');
    assert.equal((await curl('--data-binary', 'SELECT currentDatabase()', `${srv.httpUrl}/?session_id=${s1}`)).body.toString(), 'default\n');
    await curl('--data-binary', 'USE system', `${srv.httpUrl}/?session_id=${s1}`);
    assert.equal((await curl('--data-binary', 'SELECT currentDatabase()', `${srv.httpUrl}/?session_id=${s1}`)).body.toString(), 'system\n');
  });

  test('a statement failing mid-result leaves the session usable (its temporary table kept), nothing of its rows in the next answer', async () => {
    const s = 'compat-fail';
    await client.command({ query: 'CREATE TEMPORARY TABLE keep (x UInt8)', session_id: s });
    const failed = await curl('--data-binary', "SELECT number n, throwIf(number = 10, 'boom') e FROM system.numbers LIMIT 100 SETTINGS max_block_size = 1 FORMAT JSONEachRow", `${srv.httpUrl}/?session_id=${s}`);
    assert.match(failed.body.toString(), /boom/);
    const next = await curl('--data-binary', 'SELECT count() AS c FROM keep FORMAT JSONEachRow', `${srv.httpUrl}/?session_id=${s}`);
    assert.equal(next.body.toString(), '{"c":0}\n');
  });

  test('a client that goes away mid-result leaves its session usable, its temporary table intact', async () => {
    const s = 'compat-gone';
    await client.command({ query: 'CREATE TEMPORARY TABLE still_here (x UInt8)', session_id: s });
    await client.command({ query: 'INSERT INTO still_here VALUES (9)', session_id: s });
    const ac = new AbortController();
    const res = await fetch(`${srv.httpUrl}/?session_id=${s}`, { method: 'POST', body: 'SELECT number FROM system.numbers FORMAT JSONEachRow', headers: basicAuth(srv.credentials), signal: ac.signal });
    const first = await res.body!.getReader().read();
    assert.match(Buffer.from(first.value!).toString(), /^\{"number":0\}/);
    ac.abort();
    // The endless statement is cancelled once the server sees the client gone; until then the session is busy.
    let r: Awaited<ReturnType<typeof curl>>;
    do r = await curl('--data-binary', 'SELECT sum(x) FROM still_here', `${srv.httpUrl}/?session_id=${s}`);
    while (r.headers['x-clickhouse-exception-code'] === '373');
    assert.equal(r.body.toString(), '9\n');
  });

  test('concurrent use of one session answers SESSION_IS_LOCKED (373); session_check=1 on an unknown id answers 372', async () => {
    const s = 'compat-locked';
    assert.equal((await curl('--data-binary', 'SELECT 1', `${srv.httpUrl}/?session_id=${s}`)).status, 200);
    const slow = curl('--data-binary', 'SELECT sum(sleepEachRow(0.5)) FROM numbers(6) SETTINGS max_block_size = 1', `${srv.httpUrl}/?session_id=${s}`);
    // Wait until the engine runs the slow statement (it is in system.processes), then ask beside it.
    for (let i = 0; i < 200; i++) {
      if ((await srv.sql("SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow(0.5)%' AND query NOT LIKE '%system.processes%'")).startsWith('1')) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const locked = await curl('--data-binary', 'SELECT 1', `${srv.httpUrl}/?session_id=${s}`);
    assert.equal(locked.headers['x-clickhouse-exception-code'], '373', locked.body.toString());
    assert.match(locked.body.toString(), /Code: 373\. .*SESSION_IS_LOCKED/);
    assert.equal((await slow).status, 200);
    assert.equal((await curl('--data-binary', 'SELECT 2', `${srv.httpUrl}/?session_id=${s}`)).body.toString(), '2\n');
    const unknown = await curl('--data-binary', 'SELECT 1', `${srv.httpUrl}/?session_id=never-opened&session_check=1`);
    assert.equal(unknown.headers['x-clickhouse-exception-code'], '372');
  });

  test('a session ends after session_timeout idle seconds', async () => {
    const s = 'compat-timeout';
    assert.equal((await curl('--data-binary', 'CREATE TEMPORARY TABLE gone_soon (x UInt8)', `${srv.httpUrl}/?session_id=${s}&session_timeout=1`)).status, 200);
    assert.equal((await curl('--data-binary', 'SELECT count() FROM gone_soon', `${srv.httpUrl}/?session_id=${s}&session_check=1&session_timeout=1`)).status, 200);
    // Wait for the expiry (not a timing assertion: the check is only that the session is gone afterwards).
    await new Promise((r) => setTimeout(r, 2500));
    const r = await curl('--data-binary', 'SELECT 1', `${srv.httpUrl}/?session_id=${s}&session_check=1`);
    assert.equal(r.headers['x-clickhouse-exception-code'], '372');
    const tooLong = await curl('--data-binary', 'SELECT 1', `${srv.httpUrl}/?session_id=${s}&session_timeout=100000`);
    assert.equal(tooLong.headers['x-clickhouse-exception-code'], '36');
  });
});

describe('summary and progress', () => {
  before(async () => {
    await srv.sql('CREATE TABLE summ (x UInt32) ENGINE = MergeTree ORDER BY x');
  });

  test('an insert answers the engine\'s written rows in X-ClickHouse-Summary (curl and client)', async () => {
    const r = await curl('--data-binary', '1\n2\n3\n', q('INSERT INTO summ FORMAT CSV'));
    const summary = JSON.parse(r.headers['x-clickhouse-summary']!);
    assert.equal(summary.written_rows, '3');
    assert.ok(Number(summary.written_bytes) > 0);
    const res = await client.insert({ table: 'summ', values: [{ x: 4 }, { x: 5 }], format: 'JSONEachRow' });
    assert.equal(res.summary?.written_rows, '2');
    const binary = await fetch(q('INSERT INTO summ FORMAT RowBinary'), { method: 'POST', body: new Uint8Array(Buffer.from([6, 0, 0, 0, 7, 0, 0, 0])), headers: basicAuth(srv.credentials) });
    assert.equal(JSON.parse(binary.headers.get('x-clickhouse-summary')!).written_rows, '2');
    assert.equal(await rows('SELECT count() FROM summ'), '7');
  });

  test('send_progress_in_http_headers=1 sends X-ClickHouse-Progress', async () => {
    const r = await curl('--data-binary', '8\n', q('INSERT INTO summ FORMAT CSV', { send_progress_in_http_headers: '1' }));
    assert.equal(JSON.parse(r.headers['x-clickhouse-progress']!).written_rows, '1');
  });

  test('JSONEachRowWithProgress streams its meta and rows to the client (progress rows: see docs/ARCHITECTURE.md)', async () => {
    const rs = await client.query({ query: 'SELECT number FROM numbers(1000) WHERE number % 100 = 0', format: 'JSONEachRowWithProgress' });
    const all = (await rs.json<unknown>()) as Array<{ meta?: unknown; row?: { number: number } }>;
    assert.deepEqual(all[0]!.meta, [{ name: 'number', type: 'UInt64' }]);
    assert.deepEqual(all.filter((r) => r.row).map((r) => r.row!.number), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // chDB's streaming API drops the engine's progress rows (measured on chDB 26.7): whatever progress
    // rows do arrive are the engine's, never made up by the server.
    for (const r of all.filter((x) => isProgressRow(x as never)) as Array<{ progress: { read_rows: string } }>) assert.equal(r.progress.read_rows, '1000');
  });
});

describe('content types, INSERT answers, multipart parameters', () => {
  test('CSV says header=absent, CSVWithNames header=present; TSV and JSON as ClickHouse names them', async () => {
    const ct = async (fmt: string) => (await curl('--data-binary', `SELECT 1 AS x FORMAT ${fmt}`, srv.httpUrl)).headers['content-type'];
    assert.equal(await ct('CSV'), 'text/csv; charset=UTF-8; header=absent');
    assert.equal(await ct('CSVWithNames'), 'text/csv; charset=UTF-8; header=present');
    assert.equal(await ct('TabSeparated'), 'text/tab-separated-values; charset=UTF-8');
    assert.equal(await ct('JSON'), 'application/json; charset=UTF-8');
  });

  test('X-ClickHouse-Format and X-ClickHouse-Database request headers set the default format and database', async () => {
    const r = await curl('-H', 'X-ClickHouse-Format: JSONEachRow', '-H', 'X-ClickHouse-Database: system', '--data-binary', "SELECT name FROM tables WHERE name = 'one'", `${srv.httpUrl}/?default_format=CSV`);
    assert.equal(r.body.toString(), '{"name":"one"}\n');
    assert.equal(r.headers['x-clickhouse-format'], 'JSONEachRow');
  });

  test('an INSERT answers 200 with an empty text/plain body and no X-ClickHouse-Format', async () => {
    await srv.sql('CREATE TABLE IF NOT EXISTS ans (x UInt8) ENGINE = Memory');
    const r = await curl('--data-binary', '1\n', q('INSERT INTO ans FORMAT CSV'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(r.headers['x-clickhouse-format'], undefined);
    assert.equal(r.body.length, 0);
  });

  test('query and param_ values as multipart/form-data fields (client use_multipart_params, curl --form-string)', async () => {
    const big = Array.from({ length: 2000 }, (_, i) => `value-${i}`);
    const rs = await client.query({ query: 'SELECT length({v:Array(String)}) AS n, {v:Array(String)}[2000] AS last', query_params: { v: big }, format: 'JSONEachRow', use_multipart_params: true });
    assert.deepEqual(await rs.json(), [{ n: 2000, last: 'value-1999' }]);
    // --form-string: curl's -F would read the comma as a list of files.
    const r = await curl('--form-string', 'query=SELECT {t:Tuple(String, UInt8)} AS t FORMAT JSONEachRow', '--form-string', "param_t=('it\\'s',1)", srv.httpUrl);
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(JSON.parse(r.body.toString()), { t: ["it's", 1] });
  });
});

describe('system.query_log', () => {
  test('is not there in the embedded engine: an ordinary UNKNOWN_TABLE error (docs/ARCHITECTURE.md says why)', async () => {
    await assert.rejects(client.query({ query: 'SELECT count() FROM system.query_log' }), (err: Error & { code?: string }) => err.code === '60');
  });
});

describe('guard additions', () => {
  test('FROM INFILE in client SQL and the VALUES-expression settings are refused (497), nothing inserted', async () => {
    await srv.sql('CREATE TABLE IF NOT EXISTS lines (l String) ENGINE = Memory');
    const infile = await curl('--data-binary', "INSERT INTO lines FROM INFILE '/etc/hostname' FORMAT LineAsString", srv.httpUrl);
    assert.equal(infile.headers['x-clickhouse-exception-code'], '497');
    const url = await curl('--data-binary', "INSERT INTO lines VALUES (concat('a', 'b'))", `${srv.httpUrl}/?input_format_values_interpret_expressions=1`);
    assert.equal(url.headers['x-clickhouse-exception-code'], '497');
    const clause = await curl('--data-binary', "INSERT INTO lines SETTINGS input_format_values_interpret_expressions = 1 VALUES (concat('a', 'b'))", srv.httpUrl);
    assert.equal(clause.headers['x-clickhouse-exception-code'], '497');
    const inSession = await curl('--data-binary', 'SET input_format_values_interpret_expressions = 1', `${srv.httpUrl}/?session_id=compat-guard`);
    assert.equal(inSession.headers['x-clickhouse-exception-code'], '497');
    assert.equal(await rows('SELECT count() FROM lines'), '0');
  });

  test('SET and USE are refused outside a session (shared sessions), and for the reader in one', async () => {
    assert.equal((await curl('--data-binary', 'SET max_threads = 1', srv.httpUrl)).headers['x-clickhouse-exception-code'], '497');
    const reader = await fetch(`${srv.httpUrl}/?${new URLSearchParams({ query: 'SET max_threads = 1', session_id: 'compat-reader' })}`);
    assert.equal(reader.headers.get('x-clickhouse-exception-code'), '164');
  });
});

describe('the same over --clickhouse-url (a front server whose store is this one)', () => {
  let front: RunningServer;
  before(async () => {
    front = await startServer({ extraArgs: ['--clickhouse-url', srv.httpUrl], env: { CLICKHOUSE_USER: srv.credentials.user, CLICKHOUSE_PASSWORD: srv.credentials.password } });
  });
  after(async () => {
    await front?.stop();
  });

  test('a statement with backslashes reaches the guard intact; param_ values and sessions pass through', async () => {
    assert.equal(await front.sql("SELECT 'back\\\\slash\\ttab' AS s FORMAT JSONEachRow"), '{"s":"back\\\\slash\\ttab"}\n');
    // Unescaped as a param_ value by the backing server, `\'` would end the literal: a syntax error.
    assert.equal(await front.sql("SELECT 'it\\'s' AS s FORMAT JSONEachRow"), '{"s":"it\'s"}\n');
    const auth = { Authorization: basicAuth(front.credentials).Authorization! };
    const p = await fetch(`${front.httpUrl}/?${new URLSearchParams({ param_t: "('it\\'s',3)", param_n: '\\N' })}`, { method: 'POST', body: 'SELECT {t:Tuple(String, Int8)} AS t, {n:Nullable(String)} AS n FORMAT JSONEachRow', headers: auth });
    assert.deepEqual(await p.json(), { t: ["it's", 3], n: null });
    const make = await fetch(`${front.httpUrl}/?session_id=via-front`, { method: 'POST', body: 'CREATE TEMPORARY TABLE front_tmp (x UInt8)', headers: auth });
    assert.equal(make.status, 200, await make.text());
    await fetch(`${front.httpUrl}/?session_id=via-front`, { method: 'POST', body: 'INSERT INTO front_tmp VALUES (5)', headers: auth });
    const read = await fetch(`${front.httpUrl}/?session_id=via-front`, { method: 'POST', body: 'SELECT sum(x) FROM front_tmp', headers: auth });
    assert.equal(await read.text(), '5\n');
    const ins = await fetch(`${front.httpUrl}/?${new URLSearchParams({ query: 'INSERT INTO summ FORMAT CSV' })}`, { method: 'POST', body: '100\n101\n', headers: auth });
    assert.equal(JSON.parse(ins.headers.get('x-clickhouse-summary')!).written_rows, '2');
  });
});
