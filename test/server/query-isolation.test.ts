/**
 * Issue 15's findings against the built server: a slow query holds up neither collection nor short
 * queries, an abandoned endless query is cancelled and gives its memory and its session back, no byte
 * of a failed query reaches another answer, and an error after the first bytes still fails the client.
 * Order of completion is what the tests assert, never a duration.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createClient } from '@clickhouse/client';
import { basicAuth, startServer, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

let srv: RunningServer;
serverPerFile((s) => (srv = s));

/** What is left under tmp-results besides the server's idle named pipes (empty, kept for the next result). */
function leftResults(): string[] {
  const dir = `${srv.dataDir}/tmp-results`;
  return existsSync(dir) ? readdirSync(dir).filter((f) => !lstatSync(`${dir}/${f}`).isFIFO()) : [];
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/**
 * POSTs SQL; resolves with status and body. `abortAfterBytes` hangs up once that much arrived; `signal`
 * hangs up whenever it fires (then resolves with what came).
 */
function post(sql: string, opts: { auth?: boolean; search?: string; abortAfterBytes?: number; signal?: AbortSignal } = {}): Promise<{ status: number; body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    opts.signal?.addEventListener('abort', () => {
      req.destroy();
      resolve({ status: 0, body: '', aborted: true });
    });
    const url = new URL(`${srv.httpUrl}/${opts.search ?? ''}`);
    const req = request(url, { method: 'POST', headers: opts.auth ? basicAuth(srv.credentials) : {} }, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (opts.abortAfterBytes !== undefined && got >= opts.abortAfterBytes) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), aborted: true });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), aborted: false }));
      res.on('error', () => undefined);
    });
    req.on('error', (e) => (opts.abortAfterBytes !== undefined || opts.signal?.aborted ? undefined : reject(e)));
    req.end(sql);
  });
}

/** Waits until exactly `n` running queries contain `fragment` (system.processes), failing after 20 s. */
async function runningQueries(fragment: string, n: number): Promise<void> {
  let seen = '';
  for (let i = 0; i < 400; i++) {
    seen = await srv.sql(`SELECT count() FROM system.processes WHERE position(query, {f:String}) > 0 AND position(query, 'system.processes') = 0`, { f: fragment });
    if (seen === `${n}\n`) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`expected ${n} running queries with "${fragment}", saw ${seen.trim()}`);
}

const SLOW = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) % 7 = 1';

describe('a slow query holds up nothing else', () => {
  test('while it runs, an export is acknowledged and stored, and short queries answer', async () => {
    let slowDone = false;
    const hangUp = new AbortController();
    const slow = post(SLOW, { signal: hangUp.signal }).finally(() => (slowDone = true));
    await runningQueries('sipHash64(number) % 7', 1);
    const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': 'beside-slow', cost_usd: 0.5 } }])), 'application/x-protobuf');
    assert.equal(r.status, 200);
    assert.equal(slowDone, false, 'the export was acknowledged while the slow query still ran');
    assert.equal((await post("SELECT count() FROM telemetry_events WHERE session_id = 'beside-slow'")).body, '1\n');
    for (let i = 0; i < 5; i++) assert.equal((await post(`SELECT ${i} + 1`)).body, `${i + 1}\n`);
    assert.equal(slowDone, false, 'short queries answered while the slow query still ran');
    // Hang up on the slow query: it is cancelled, not left running.
    hangUp.abort();
    await slow;
    await runningQueries('sipHash64(number) % 7', 0);
  });
});

describe('a client that goes away cancels its query', () => {
  test('endless results hung up on: sessions come back, memory stays bounded', async () => {
    const baseline = rssBytes(srv.proc.pid!);
    // More abandoned endless queries than there are reader sessions: if a cancelled query kept its
    // session, the next read would wait for a free one and fail after the pool's bounded wait.
    for (let i = 0; i < 6; i++) {
      const r = await post('SELECT * FROM system.numbers FORMAT JSONEachRow', { abortAfterBytes: 4 * 1024 * 1024 });
      assert.equal(r.status, 200);
      assert.ok(r.aborted);
      assert.match(r.body, /^\{"number":"?0"?\}\n/);
    }
    assert.equal((await post('SELECT 42')).body, '42\n');
    await runningQueries('system.numbers FORMAT', 0);
    const grown = rssBytes(srv.proc.pid!) - baseline;
    assert.ok(grown < 300 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB after six abandoned endless queries`);
  });
});

describe('no byte of one answer reaches another', () => {
  test("a failed query's rows never prefix the next answer (the issue's finding 3)", async () => {
    const failed = await post("SELECT number n, throwIf(number = 10, 'boom') e FROM system.numbers LIMIT 100 SETTINGS max_block_size = 1 FORMAT JSONEachRow", { auth: true });
    assert.notEqual(failed.body.slice(0, 1), '');
    for (let i = 0; i < 8; i++) {
      const next = await post('SELECT version() AS v FORMAT JSONEachRow', { auth: i % 2 === 0 });
      assert.equal(next.status, 200);
      assert.match(next.body, /^\{"v":"[\d.]+"\}\n$/);
    }
  });

  test('concurrent clients, queries failing at random points: every good answer is exactly its own', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const jobs: Array<Promise<void>> = [];
    for (let i = 0; i < 60; i++) {
      const k = i + 1;
      const fails = rand() < 0.5;
      const at = Math.floor(rand() * 50);
      const sql = fails
        ? `SELECT number * ${k} AS x, throwIf(number = ${at}, 'boom ${k}') FROM numbers(100) SETTINGS max_block_size = 1 FORMAT JSONEachRow`
        : `SELECT number * ${k} AS x FROM numbers(20) FORMAT JSONEachRow`;
      jobs.push(post(sql, { auth: true }).then((r) => {
        if (fails) {
          assert.match(r.body, new RegExp(`boom ${k}`));
          return;
        }
        assert.equal(r.status, 200);
        const expected = Array.from({ length: 20 }, (_, n) => JSON.stringify({ x: String(n * k) === String(Number(n * k)) ? n * k : n * k })).join('\n') + '\n';
        assert.equal(r.body, expected, `answer ${k}`);
      }));
    }
    await Promise.all(jobs);
  });
});

describe('an error after the first bytes', () => {
  test('arrives in the body as ClickHouse marks it, and @clickhouse/client raises', async () => {
    const sql = "SELECT number, throwIf(number = 300000, 'late boom') AS e FROM numbers(1000000) SETTINGS max_block_size = 8192";
    const raw = await post(`${sql} FORMAT JSONEachRow`, { auth: true });
    assert.equal(raw.status, 200, 'the status line went out before the error');
    assert.match(raw.body, /^\{"number":"?0"?,"e":0\}/);
    assert.match(raw.body, /__exception__\r\n[0-9a-f]+\r\nCode: 395\. DB::Exception: .*late boom/s);
    const client = createClient({ url: srv.httpUrl, username: srv.credentials.user, password: srv.credentials.password });
    try {
      const rs = await client.query({ query: sql, format: 'JSONEachRow' });
      await assert.rejects(async () => {
        for await (const rows of rs.stream()) void rows;
      }, (e: Error & { code?: string }) => e.code === '395' && /late boom/.test(e.message));
    } finally {
      await client.close();
    }
  });
});

describe('limits by default', () => {
  test('every reader runs under the engine’s memory and time limits, and the engine under a process bound', async () => {
    const [mem, time, server] = (await post("SELECT getSetting('max_memory_usage'), getSetting('max_execution_time'), getServerSetting('max_server_memory_usage')")).body.trim().split('\t').map(Number);
    assert.ok(mem! > 0 && time! > 0 && server! > 0, `${mem} ${time} ${server}`);
    assert.ok(mem! < server!, 'one query cannot take the whole engine');
    const { totalmem } = await import('node:os');
    assert.ok(server! < totalmem(), 'the engine stays below what the machine has');
  });

  test('parts are written with small buffers, at most two merges run at once and few idle threads are kept (engine-limits.ts), from an owner-only config file', async () => {
    const [block, ratio, idleThreads] = (await post("SELECT (SELECT value FROM system.merge_tree_settings WHERE name = 'max_compress_block_size'), getServerSetting('background_merges_mutations_concurrency_ratio'), getServerSetting('max_thread_pool_free_size')")).body.trim().split('\t');
    assert.equal(block, '65536');
    assert.equal(Number(ratio), 1);
    assert.equal(Number(idleThreads), 16);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(`${srv.dataDir}/engine-config.xml`).mode & 0o777, 0o600);
  });

  test('a query over its memory limit fails with 241 and the server keeps serving', async () => {
    const r = await post('SELECT groupArray(number) FROM numbers(100000000)', { auth: true, search: '?max_memory_usage=50000000' });
    assert.notEqual(r.status, 200);
    assert.match(r.body, /^Code: 241\./);
    assert.equal((await post('SELECT 1')).body, '1\n');
  });
});

describe('streamed results', () => {
  for (const [how, search, clause] of [['named in the statement (the engine writes it into a pipe)', '', ' FORMAT CSVWithNames'], ['from default_format (chDB chunks, later headers dropped)', '?default_format=CSVWithNames', '']] as const) {
    test(`a CSV of many blocks, format ${how}: one header, every row once, in order`, async () => {
      const rows = 200_000;
      const r = await post(`SELECT number AS n, concat('row "', toString(number), '"') AS s FROM numbers(${rows}) SETTINGS max_block_size = 1000${clause}`, { auth: true, search });
      assert.equal(r.status, 200);
      const expected = ['"n","s"', ...Array.from({ length: rows }, (_, n) => `${n},"row ""${n}"""`)].join('\n') + '\n';
      const at = [...expected].findIndex((c, i) => r.body[i] !== c);
      assert.ok(r.body === expected, `the body differs from the expected CSV at byte ${at}: ${JSON.stringify(r.body.slice(Math.max(0, at - 40), at + 40))}`);
    });
  }

  test('CSV results at once each get their own pipe, and pipes are used again rather than made per result', async () => {
    const dir = `${srv.dataDir}/tmp-results`;
    const pipes = () => (existsSync(dir) ? readdirSync(dir).filter((f) => lstatSync(`${dir}/${f}`).isFIFO()).length : 0);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, k) => post(`SELECT number * ${k + 1} FROM numbers(300000) FORMAT CSV`)));
    answers.forEach((r, k) => assert.ok(r.body === Array.from({ length: 300_000 }, (_, n) => `${n * (k + 1)}\n`).join(''), `answer ${k + 1}`));
    const made = pipes();
    assert.ok(made >= 1, 'the CSV results went through pipes');
    for (let i = 0; i < 5; i++) assert.equal((await post(`SELECT ${i} FORMAT CSV`)).body, `${i}\n`);
    assert.equal(pipes(), made, 'sequential results reuse the idle pipes');
  });

  test('a CSV query failing after its first bytes: they are followed by the error in the body', async () => {
    const r = await post("SELECT number, throwIf(number = 900000, 'late csv boom') AS e FROM numbers(1000000) SETTINGS max_block_size = 8192 FORMAT CSV", { auth: true });
    assert.equal(r.status, 200, 'the status line went out before the error');
    assert.match(r.body, /^0,0\n1,0\n/);
    assert.match(r.body, /__exception__\r\n[0-9a-f]+\r\nCode: 395\. DB::Exception: .*late csv boom/s);
  });

  test('Parquet starts arriving while the engine still writes it; a hang-up stops the query and leaves no pipe behind', async () => {
    // Endless: only a result streamed as it is written can send anything at all.
    const r = await post('SELECT number, toString(sipHash64(number)) AS h FROM system.numbers FORMAT Parquet', { abortAfterBytes: 4 * 1024 * 1024 });
    assert.equal(r.status, 200);
    assert.ok(r.aborted);
    assert.equal(r.body.slice(0, 4), 'PAR1');
    await runningQueries('system.numbers FORMAT Parquet', 0);
    assert.deepEqual(leftResults(), []);
    assert.equal((await post('SELECT 42')).body, '42\n');
  });

  test('a Parquet query failing after its first row groups: the bytes sent are followed by the error in the body', async () => {
    const r = await post("SELECT number, toString(sipHash64(number)) AS h, throwIf(number = 900000, 'late parquet boom') AS e FROM numbers(1000000) SETTINGS max_block_size = 8192 FORMAT Parquet", { auth: true });
    assert.equal(r.status, 200, 'the status line went out before the error');
    assert.equal(r.body.slice(0, 4), 'PAR1');
    assert.match(r.body, /__exception__\r\n[0-9a-f]+\r\nCode: 395\. DB::Exception: .*late parquet boom/s);
    assert.deepEqual(leftResults(), []);
  });

  test('a Parquet query failing before any byte is an ordinary error response', async () => {
    const r = await post('SELECT no_such_column FROM numbers(10) FORMAT Parquet');
    assert.equal(r.status, 400);
    assert.match(r.body, /^Code: 47\./);
  });

  test('a Parquet export writes a unique column plainly and no bloom filters: no larger than the engine’s own file', async () => {
    const { mkdtempSync, rmSync, statSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const chdb = require('chdb') as typeof import('chdb');
    const sql = 'SELECT number AS id, toDateTime64(1764460800 + intDiv(number, 10), 3) AS ts, toString(number % 12) AS chapter FROM numbers(1000000)';
    const res = await fetch(srv.httpUrl, { method: 'POST', body: `${sql} FORMAT Parquet` });
    assert.equal(res.status, 200);
    const dir = mkdtempSync(join(tmpdir(), 'ct-parquet-'));
    try {
      const ours = join(dir, 'ours.parquet');
      writeFileSync(ours, Buffer.from(await res.arrayBuffer()));
      const engine = join(dir, 'engine.parquet');
      chdb.query(`${sql} INTO OUTFILE '${engine}' FORMAT Parquet`, 'TabSeparated');
      // In a 64k-row group the unique ids fit the engine's default 1 MiB dictionary, and their dictionary
      // indices compress far worse than the plain values (the file was 1.5× the engine's own).
      const meta = (q: string) => chdb.query(`SELECT ${q} FROM file('${ours}', ParquetMetadata)`, 'TabSeparated').trim();
      assert.doesNotMatch(meta("arrayFilter(c -> c.name = 'id', columns)[1].encodings"), /DICTIONARY/);
      assert.match(meta("arrayFilter(c -> c.name = 'chapter', columns)[1].encodings"), /DICTIONARY/, 'a column of few values keeps its dictionary');
      assert.equal(meta('arraySum(arrayMap(c -> c.bloom_filter_bytes, arrayFlatten(arrayMap(r -> r.columns, row_groups))))'), '0');
      assert.equal(chdb.query(`SELECT count(), sum(id), uniqExact(ts), uniqExact(chapter) FROM file('${ours}', Parquet)`, 'TabSeparated'), '1000000\t499999500000\t100000\t12\n');
      const ratio = statSync(ours).size / statSync(engine).size;
      assert.ok(ratio <= 1, `our Parquet file is ${ratio.toFixed(2)}× the engine's own`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('binary one-document results', () => {
  test('a Parquet result is written by the engine to a file of ours, sent whole and correct, and the file is gone', async () => {
    // Anonymous: the reader's readonly mode must not stop the server's own INTO OUTFILE.
    const res = await fetch(srv.httpUrl, { method: 'POST', body: 'SELECT number AS n, toString(number) AS s FROM numbers(20000) FORMAT Parquet' });
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 200);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PAR1');
    assert.equal(bytes.subarray(-4).toString('latin1'), 'PAR1');
    const back = await srv.sql(`SELECT count(), sum(n), uniqExact(s) FROM format(Parquet, base64Decode('${bytes.toString('base64')}'))`);
    assert.equal(back, '20000\t199990000\t20000\n');
    assert.deepEqual(leftResults(), []);
  });
});

describe('stopping while a result streams through a pipe', () => {
  test('the server stops (exit 0) while a client holds a Parquet result unread', async () => {
    const own = await startServer();
    let req: ReturnType<typeof request> | undefined;
    try {
      // The client reads the first bytes, then stops reading: the engine's writes wait for room in the pipe.
      await new Promise<void>((resolve, reject) => {
        req = request(own.httpUrl, { method: 'POST' }, (res) => {
          res.once('data', () => {
            res.pause();
            resolve();
          });
          res.on('error', () => undefined);
        });
        req.on('error', (e) => reject(e));
        req.end('SELECT number, toString(number) AS s FROM system.numbers FORMAT Parquet');
      });
      assert.equal(await own.stop(), 0);
    } finally {
      req?.destroy();
      if (own.proc.exitCode === null) own.proc.kill('SIGKILL');
      rmSync(own.dataDir, { recursive: true, force: true });
    }
  });
});
