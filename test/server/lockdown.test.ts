/**
 * Issue 8's attacks against the built server, each with the side effect checked, not only the answer:
 * no file appears, every table keeps its rows. Real curl sends the headers exactly as the issue does;
 * @clickhouse/client checks that a real client works read-only without credentials and read/write as
 * the writer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '@clickhouse/client';
import { basicAuth, startServer, type RunningServer } from '../support/server';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

const run = promisify(execFile);
let srv: RunningServer;
let scratch: string;
const TABLES = ['otel_logs', 'telemetry_events', 'session_summaries', 'daily_metrics', 'events_15m'];

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await srv.sql(`SELECT count() FROM ${t}`)).trim());
  return out;
}

/** curl with the given arguments; the body and the status code. */
async function curl(...args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'ct-lockdown-'));
  srv = await startServer({ extraArgs: ['--state-file', join(mkdtempSync(join(tmpdir(), 'ct-state-')), 'server.json')] });
  const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest([
    { name: 'api_request', attributes: { 'session.id': 's1', model: 'claude-sonnet-4-5', input_tokens: 10, output_tokens: 5, cost_usd: 0.1 } },
    { name: 'user_prompt', attributes: { 'session.id': 's1', prompt: '<REDACTED>', prompt_length: 12 } },
  ], { 'service.name': 'claude-code', user_id: 'alice' })), 'application/x-protobuf');
  assert.equal(r.status, 200);
});
after(async () => {
  await srv?.stop();
});

describe("the issue's attacks, with curl as the issue sends them", () => {
  test('a cross-origin text/plain POST writing a file through INSERT INTO FUNCTION file(): 403, no file', async () => {
    const target = join(scratch, 'pwned.txt');
    const r = await curl('-X', 'POST', '-H', 'Content-Type: text/plain', '-H', 'Origin: http://evil.example', srv.httpUrl,
      '--data', `INSERT INTO FUNCTION file('${target}','LineAsString') SELECT 'written by a web page'`);
    assert.equal(r.status, 403);
    assert.match(r.body, /Origin: http:\/\/evil\.example/);
    assert.equal(existsSync(target), false);
  });

  test('a cross-origin DROP TABLE: 403, the table keeps its rows', async () => {
    const before = await counts();
    const r = await curl('-X', 'POST', '-H', 'Origin: http://evil.example', srv.httpUrl, '--data', 'DROP TABLE telemetry_events');
    assert.equal(r.status, 403);
    assert.deepEqual(await counts(), before);
    assert.ok(before.telemetry_events! > 0);
  });

  test('the same DROP without Origin but without credentials: 403, code 164, nothing dropped', async () => {
    const before = await counts();
    const r = await curl('-X', 'POST', srv.httpUrl, '--data', 'DROP TABLE telemetry_events');
    assert.equal(r.status, 403);
    assert.match(r.body, /^Code: 164\./);
    assert.deepEqual(await counts(), before);
  });

  test("reading /etc/passwd through file() is refused", async () => {
    const r = await curl('-G', srv.httpUrl, '--data-urlencode', "query=SELECT * FROM file('/etc/passwd','LineAsString')");
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body, /root:/);
  });

  test('a foreign Host (DNS rebinding) is refused on both HTTP listeners', async () => {
    const r = await curl('-H', `Host: evil.example:${srv.httpPort}`, srv.httpUrl, '--data', 'SELECT version()');
    assert.equal(r.status, 403);
    assert.doesNotMatch(r.body, /^\d+\.\d+/);
    const o = await curl('-H', 'Host: evil.example', `${srv.otlpHttpUrl}/health`);
    assert.equal(o.status, 403);
    assert.doesNotMatch(o.body, /received/);
  });

  test('SELECT … INTO OUTFILE writes no file, anonymous or writer', async () => {
    const target = join(scratch, 'out.txt');
    const anon = await curl(srv.httpUrl, '--data', `SELECT 1 INTO OUTFILE '${target}'`);
    assert.equal(anon.status, 403);
    const writer = await curl('-u', `${srv.credentials.user}:${srv.credentials.password}`, srv.httpUrl, '--data', `SELECT 1 INTO OUTFILE '${target}'`);
    assert.equal(writer.status, 403);
    assert.equal(existsSync(target), false);
  });
});

describe('Host and Origin', () => {
  for (const host of ['localhost', 'LOCALHOST:8123', '127.0.0.1', '127.0.0.1:8123', '[::1]', '[::1]:8123']) {
    test(`Host ${host} is served`, async () => {
      const r = await curl('-H', `Host: ${host}`, `${srv.httpUrl}/?query=SELECT%201`);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, '1\n');
    });
  }
  for (const host of ['evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:8123', '0.0.0.0', '']) {
    test(`Host "${host}" is refused`, async () => {
      const r = await curl('-H', `Host: ${host}`, `${srv.httpUrl}/?query=SELECT%201`);
      assert.equal(r.status, 403, r.body);
    });
  }
  test('any Origin is refused on the OTLP listener too, and nothing is stored', async () => {
    const before = await counts();
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${srv.httpPort}`]) {
      const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest([{ name: 'api_request', attributes: { cost_usd: 9 } }])), 'application/x-protobuf', { Origin: origin });
      assert.equal(r.status, 403, origin);
    }
    assert.deepEqual(await counts(), before);
  });
});

describe('the anonymous reader: the engine’s readonly mode, and nothing lifts it', () => {
  const attempts: Array<[string, string]> = [
    ['SETTINGS in the query', 'INSERT INTO telemetry_events (event_name) SELECT \'x\' SETTINGS readonly = 0'],
    ['SETTINGS readonly=0 on a SELECT', 'SELECT 1 SETTINGS readonly = 0'],
    ['SET', 'SET readonly = 0'],
    ['a second statement', 'SELECT 1; DROP TABLE telemetry_events'],
    ['WITH … INSERT', "WITH 'x' AS v INSERT INTO telemetry_events (event_name) SELECT v"],
    ['a table function in a subquery', "SELECT * FROM (SELECT * FROM file('/etc/passwd', 'LineAsString'))"],
    ['the scalar file()', "SELECT file('/etc/passwd')"],
    ['url()', "SELECT * FROM url('http://127.0.0.1:9/x', 'LineAsString')"],
    ['remote()', "SELECT * FROM remote('127.0.0.1:9000', system.one)"],
    ['s3()', "SELECT * FROM s3('http://127.0.0.1:9/bucket/x.csv', 'CSV', 'a String')"],
    ['executable()', "SELECT * FROM executable('id', 'TSV', 'a String')"],
    ['input()', "INSERT INTO telemetry_events (event_name) SELECT * FROM input('event_name String')"],
    ['a dictionary with a file source', "CREATE DICTIONARY d (k UInt64, v String) PRIMARY KEY k SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)"],
    ['DDL hidden behind a comment', '/* SELECT */ DROP TABLE telemetry_events'],
    ['DDL behind a line comment', '-- SELECT\nTRUNCATE TABLE telemetry_events'],
    ['ALTER … DELETE', 'ALTER TABLE telemetry_events DELETE WHERE 1'],
    ['lightweight DELETE', 'DELETE FROM telemetry_events WHERE 1'],
    ['SYSTEM', 'SYSTEM DROP MARK CACHE'],
    ['KILL', 'KILL QUERY WHERE 1'],
    ['OPTIMIZE', 'OPTIMIZE TABLE telemetry_events FINAL'],
  ];
  for (const [what, sql] of attempts) {
    test(`${what}: refused, nothing changes`, async () => {
      const before = await counts();
      const r = await curl(srv.httpUrl, '--data-binary', sql);
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.body}`);
      assert.match(r.body, /^Code: \d+\. DB::Exception/);
      assert.deepEqual(await counts(), before);
    });
  }

  test('settings as URL parameters cannot lift readonly either', async () => {
    const before = await counts();
    const r = await curl(`${srv.httpUrl}/?readonly=0`, '--data', "INSERT INTO telemetry_events (event_name) SELECT 'x'");
    assert.equal(r.status, 403);
    const s = await curl(`${srv.httpUrl}/?max_execution_time=100000`, '--data', 'SELECT 1');
    assert.equal(s.status, 403);
    assert.match(s.body, /^Code: 164\./);
    assert.deepEqual(await counts(), before);
  });

  test('reads work: SELECT, SHOW, DESCRIBE, EXISTS, EXPLAIN', async () => {
    for (const sql of ['SELECT count() FROM telemetry_events', 'SHOW TABLES', 'DESCRIBE TABLE telemetry_events', 'EXISTS TABLE telemetry_events', 'EXPLAIN SELECT 1']) {
      const r = await curl(srv.httpUrl, '--data', sql);
      assert.equal(r.status, 200, `${sql}: ${r.body}`);
    }
  });

  test('a GET is read-only even with the writer credential', async () => {
    const r = await curl('-G', '-u', `${srv.credentials.user}:${srv.credentials.password}`, srv.httpUrl, '--data-urlencode', "query=CREATE TABLE get_made (a UInt8) ENGINE = Memory");
    assert.equal(r.status, 403);
    assert.equal((await srv.sql("EXISTS TABLE get_made")).trim(), '0');
  });
});

describe('the writer', () => {
  test('each way ClickHouse clients send credentials works, and a wrong password is 401', async () => {
    const { user, password } = srv.credentials;
    await srv.sql('CREATE TABLE IF NOT EXISTS w (a UInt8) ENGINE = MergeTree ORDER BY a');
    assert.equal((await curl('-u', `${user}:${password}`, srv.httpUrl, '--data', 'INSERT INTO w VALUES (1)')).status, 200);
    assert.equal((await curl('-H', `X-ClickHouse-User: ${user}`, '-H', `X-ClickHouse-Key: ${password}`, `${srv.httpUrl}/?query=${encodeURIComponent('INSERT INTO w FORMAT CSV')}`, '--data-binary', '2\n3\n')).status, 200);
    assert.equal((await curl(`${srv.httpUrl}/?user=${user}&password=${encodeURIComponent(password)}`, '--data', 'INSERT INTO w FORMAT JSONEachRow\n{"a":4}')).status, 200);
    assert.equal((await srv.sql('SELECT sum(a) FROM w')).trim(), '10');
    const wrong = await curl('-u', `${user}:not-the-password`, srv.httpUrl, '--data', 'SELECT 1');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /^Code: 516\./);
    assert.equal((await curl('-u', `someone:${password}`, srv.httpUrl, '--data', 'SELECT 1')).status, 401);
  });

  test('the writer cannot reach the file system or the network either', async () => {
    const target = join(scratch, 'writer.txt');
    const auth = ['-u', `${srv.credentials.user}:${srv.credentials.password}`];
    for (const sql of [
      `INSERT INTO FUNCTION file('${target}', 'LineAsString') SELECT 'x'`,
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      `CREATE TABLE f (a String) ENGINE = File(LineAsString, '${target}')`,
      "CREATE DICTIONARY d (k UInt64, v String) PRIMARY KEY k SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
      "INSERT INTO w VALUES (length(file('/etc/passwd')))",
      `BACKUP TABLE w TO File('${target}')`,
      'SET max_memory_usage = 1',
      'USE system',
    ]) {
      const r = await curl(...auth, srv.httpUrl, '--data-binary', sql);
      assert.notEqual(r.status, 200, `${sql}: ${r.body}`);
      assert.match(r.body, /^Code: \d+\. DB::Exception/);
    }
    assert.equal(existsSync(target), false);
    assert.equal((await srv.sql('SELECT count() FROM w WHERE a > 4')).trim(), '0');
    assert.equal((await srv.sql("SELECT count() FROM system.tables WHERE name IN ('f', 'd')")).trim(), '0');
  });

  test('the credential file is the owner’s alone, and the state file names it', async () => {
    assert.equal(statSync(join(srv.dataDir, 'credentials.json')).mode & 0o777, 0o600);
    assert.equal(statSync(srv.dataDir).mode & 0o777, 0o700);
    assert.match(srv.output(), new RegExp(`credentials: ${join(srv.dataDir, 'credentials.json')}`));
    const stateArg = srv.proc.spawnargs[srv.proc.spawnargs.indexOf('--state-file') + 1]!;
    const state = JSON.parse(readFileSync(stateArg, 'utf8')) as { credentialsFile: string; pid: number; startedAt: string };
    assert.equal(state.credentialsFile, join(srv.dataDir, 'credentials.json'));
    assert.equal(statSync(stateArg).mode & 0o777, 0o600);
    const health = (await (await fetch(`${srv.otlpHttpUrl}/health`)).json()) as { pid: number; startedAt: string };
    assert.equal(health.pid, state.pid);
    assert.equal(health.startedAt, state.startedAt);
  });
});

describe('@clickhouse/client', () => {
  test('reads without credentials; an insert without them fails with 164', async () => {
    const anon = createClient({ url: srv.httpUrl });
    try {
      const rows = await (await anon.query({ query: 'SELECT count() AS n FROM telemetry_events WHERE user_id = {u:String}', query_params: { u: 'alice' }, format: 'JSONEachRow' })).json<{ n: string }>();
      assert.equal(Number(rows[0]!.n), 2);
      await assert.rejects(anon.insert({ table: 'telemetry_events', values: [{ event_name: 'x' }], format: 'JSONEachRow' }), (e: Error & { code?: string }) => e.code === '164');
    } finally {
      await anon.close();
    }
  });

  test('reads and writes with the writer credential', async () => {
    const w = createClient({ url: srv.httpUrl, username: srv.credentials.user, password: srv.credentials.password });
    try {
      await w.command({ query: 'CREATE TABLE IF NOT EXISTS cw (a UInt32, s String) ENGINE = MergeTree ORDER BY a' });
      await w.insert({ table: 'cw', values: [{ a: 1, s: "it's" }, { a: 2, s: 'b' }], format: 'JSONEachRow' });
      const rows = await (await w.query({ query: 'SELECT s FROM cw WHERE a = {a:UInt32}', query_params: { a: 1 }, format: 'JSONEachRow' })).json<{ s: string }>();
      assert.deepEqual(rows, [{ s: "it's" }]);
    } finally {
      await w.close();
    }
  });
});

describe('--allow-host and --allow-origin', () => {
  let other: RunningServer;
  before(async () => {
    other = await startServer({ extraArgs: ['--allow-host', 'book.lan', '--allow-origin', 'http://localhost:3000'] });
  });
  after(async () => {
    await other?.stop();
  });
  test('a named host and a named origin are served; others still are not', async () => {
    assert.equal((await curl('-H', `Host: book.lan:${other.httpPort}`, `${other.httpUrl}/?query=SELECT%201`)).status, 200);
    assert.equal((await curl('-H', 'Host: other.lan', `${other.httpUrl}/?query=SELECT%201`)).status, 403);
    assert.equal((await curl('-H', 'Origin: http://localhost:3000', `${other.httpUrl}/?query=SELECT%201`)).status, 200);
    assert.equal((await curl('-H', 'Origin: http://localhost:3001', `${other.httpUrl}/?query=SELECT%201`)).status, 403);
    // An allowed origin is still only a reader.
    const r = await curl('-H', 'Origin: http://localhost:3000', other.httpUrl, '--data', 'DROP TABLE telemetry_events');
    assert.equal(r.status, 403);
    assert.ok(Number((await other.sql('SELECT count() FROM system.tables WHERE name = \'telemetry_events\'')).trim()) === 1);
    void basicAuth;
  });
});
