/**
 * The history copy in Native pages (src/stack/migrate-history.ts, history-pages.ts) between real embedded
 * servers: pages cover every row once (partitions packed, a large one cut by time, many rows at one
 * instant cut by hash), every column type arrives exactly, the focus records go first so the chapters
 * come out as at the source, a copy that stopped half-way is resumed without duplicates, and a source
 * failing in the middle of a page stores nothing of it and says so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { migrateHistory } from '../../src/stack/migrate-history';
import { planPages } from '../../src/stack/history-pages';
import { exceptionBlock } from '../../src/server/clickhouse-http/protocol';
import { basicAuth, startServer, stopAndRemove, type RunningServer } from '../support/server';
import { freePort } from '../support/ports';

// Every kind of column the engine's Native format carries, with edge values and bytes that are not text.
const TYPES_TABLE = `CREATE TABLE default.ct_types (
  id UInt32, ts DateTime64(9, 'UTC'), i8 Int8, i64 Int64, i128 Int128, u256 UInt256, f32 Float32, f64 Float64,
  dec Decimal(38, 10), s String, fs FixedString(4), u UUID, d Date, d32 Date32, dt DateTime('UTC'),
  e Enum8('a' = 1, 'b' = 2), arr Array(Nullable(String)), m Map(String, String), t Tuple(a Int32, b String),
  n Nullable(Float64), lc LowCardinality(String), lcn LowCardinality(Nullable(String)), ip4 IPv4, ip6 IPv6, b Bool,
  nested Array(Tuple(String, Array(UInt8)))
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (id, ts)`;

// 350 rows on one day (150 of them at the same instant: too many for one page at 40 rows), then one row
// on each of 10 other days (small partitions, packed together).
const TYPES_ROWS = `INSERT INTO default.ct_types SELECT
  number, if(number < 150, toDateTime64('2026-01-05 10:00:00', 9, 'UTC'),
    if(number < 350, toDateTime64('2026-01-05 10:00:00', 9, 'UTC') + toIntervalNanosecond(number * 1000003),
       toDateTime64('2026-02-01 00:00:00', 9, 'UTC') + toIntervalDay(number - 350))),
  toInt8(number % 256 - 128), -9223372036854775807 + number, toInt128('-170141183460469231731687303715884105728') + number,
  toUInt256('115792089237316195423570985008687907853269984665640564039457584007913129639935') - number,
  [nan, inf, -inf, -0., 1.5][number % 5 + 1], [nan, 1e308, -4.9e-324, 0., -1.][number % 5 + 1],
  toDecimal128(number, 10) / 7, concat('line\\nbreak\\ttab\\\\ ''q'' ', unhex('ff00fe'), ' é 😀 ', toString(number)),
  toFixedString(reinterpretAsString(toUInt32(number)), 4), generateUUIDv4(number), toDate('1970-01-01') + number,
  toDate32('1900-01-01') + number, toDateTime(number * 86399, 'UTC'), if(number % 2, 'a', 'b'),
  [NULL, '', toString(number), unhex('c3')], map('k\\n', toString(number), '', unhex('80')), tuple(toInt32(number) - 5, 'x\\0y'),
  if(number % 2, NULL, number / 3), toString(number % 5), if(number % 3 = 0, NULL, 'v'), toIPv4(number), toIPv6('::ffff:1.2.3.4'),
  number % 2 = 1, [('a', [1, 2]), ('', [])]
FROM numbers(360)`;

// Within every table's retention (expired rows are dropped as they are inserted): 8:00 UTC three days ago.
const T0 = Math.floor(Date.now() / 86400_000 - 3) * 86400_000 + 8 * 3600_000;
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Claude Code events and chapter focus records of two authors over two days, as otel_logs rows. */
function logRows(): string[] {
  const rows: object[] = [];
  for (const user of ['ana', 'ben']) {
    for (let i = 0; i < 120; i++) {
      const ms = T0 + (i % 2) * 24 * HOUR + i * 60_000;
      rows.push({ Timestamp: iso(ms), ServiceName: 'claude-code', ResourceAttributes: { user_id: user },
        LogAttributes: { 'event.name': 'api_request', 'event.timestamp': new Date(ms).toISOString(), 'session.id': `${user}-${i % 3}`,
          'event.sequence': String(i), model: 'claude-sonnet-4-5', cost_usd: String((i % 7) / 100), input_tokens: String(i) } });
    }
    for (let k = 0; k < 6; k++) {
      const ms = T0 + (k % 2) * 24 * HOUR + k * 20 * 60_000 + 30_000;
      rows.push({ Timestamp: iso(ms), ServiceName: 'chapter-telemetry', ResourceAttributes: { user_id: user },
        LogAttributes: { 'event.name': 'chapter_focus', 'event.timestamp': new Date(ms).toISOString(), chapter: `ch${k}`, user_id: user } });
    }
  }
  return rows.map((r) => JSON.stringify(r));
}

async function insertJson(srv: RunningServer, table: string, lines: string[]): Promise<void> {
  const url = new URL(srv.httpUrl);
  url.searchParams.set('query', `INSERT INTO ${table} FORMAT JSONEachRow`);
  const r = await fetch(url, { method: 'POST', body: lines.join('\n'), headers: basicAuth(srv.credentials) });
  assert.equal(r.status, 200, await r.text());
}

let src: RunningServer;
const started: RunningServer[] = [];
before(async () => {
  src = await startServer();
  started.push(src);
  await src.sql(TYPES_TABLE);
  await src.sql(TYPES_ROWS);
  await insertJson(src, 'otel_logs', logRows());
});
after(async () => {
  for (const s of started) await stopAndRemove(s);
});

/** A new, empty destination with the same schema (the types table too). */
async function freshDest(): Promise<RunningServer> {
  const d = await startServer();
  started.push(d);
  await d.sql(TYPES_TABLE);
  return d;
}

const fingerprint = (s: RunningServer, table: string) => s.sql(`SELECT count(), groupBitXor(cityHash64(tuple(*))) FROM default.${table} FORMAT TSV`);
const chapters = (s: RunningServer) => s.sql('SELECT user_id, timestamp, chapter, chapter_source FROM events_chapters FINAL ORDER BY ALL FORMAT TSV');
const derived = (s: RunningServer) => s.sql('SELECT count(), round(sum(cost_usd), 6) FROM telemetry_events FORMAT TSV');

test('the pages of a table hold every row exactly once: small partitions packed, a large one cut by time, one instant by hash', async () => {
  const read = (q: string) => src.sql(q);
  const pages = await planPages(read, 'ct_types', '1', 40);
  assert.ok(pages.length >= 10, `${pages.length} pages`);
  assert.ok(pages.some((p) => /_partition_id IN \(/.test(p.where)), 'small partitions share a page');
  assert.ok(pages.some((p) => /toUnixTimestamp64Nano\(`ts`\) >= /.test(p.where)), 'the large partition is cut by its time column');
  assert.ok(pages.some((p) => /cityHash64\(tuple\(\*\)\) % /.test(p.where)), 'the 150 rows at one instant are cut by hash');
  let rows = 0;
  let xor = 0n;
  for (const p of pages) {
    const [n, h] = (await src.sql(`SELECT count(), groupBitXor(cityHash64(tuple(*))) FROM default.ct_types WHERE ${p.where} FORMAT TSV`)).trim().split('\t');
    assert.ok(Number(n) <= 80, `a page of ${n} rows`);
    if (!/cityHash64/.test(p.where)) assert.equal(Number(n), p.rows, `planned count of ${p.where}`);
    rows += Number(n);
    xor ^= BigInt(h!);
  }
  assert.equal(`${rows}\t${xor}\n`, await fingerprint(src, 'ct_types'), 'together the pages are the table, each row once');
});

test('every column type arrives exactly, in pages; focus records go first, so the chapters are the same as at the source', async () => {
  const dst = await freshDest();
  const res = await migrateHistory({ from: src.httpUrl, to: dst.httpUrl, fromAuth: src.credentials, toAuth: dst.credentials, batchRows: 40 });
  const types = res.tables.find((t) => t.table === 'ct_types')!;
  assert.deepEqual([types.sourceRows, types.copiedRows, types.alreadyPresent], [360, 360, 0]);
  assert.equal(await fingerprint(dst, 'ct_types'), await fingerprint(src, 'ct_types'), 'every row equal, column for column');
  const dump = (s: RunningServer) => s.sql('SELECT * FROM default.ct_types ORDER BY id FORMAT TabSeparated');
  assert.equal(await dump(dst), await dump(src));
  assert.equal(await fingerprint(dst, 'otel_logs'), await fingerprint(src, 'otel_logs'));
  assert.equal(await derived(dst), await derived(src), 'the destination views rebuilt the events');
  const attributed = await chapters(dst);
  assert.match(attributed, /\tch\d\tfocus\n/);
  assert.equal(attributed, await chapters(src), 'each event has the chapter it has at the source');
});

/** A relay in front of `target` that answers the `failAt`-th insert with a 503 instead of passing it on. */
async function failingInserts(target: RunningServer, failAt: number): Promise<{ url: string; server: Server }> {
  const to = new URL(target.httpUrl);
  let inserts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (/^INSERT INTO/.test(new URL(req.url ?? '/', 'http://relay').searchParams.get('query') ?? '') && ++inserts === failAt) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Code: 1002. DB::Exception: the relay stopped here. (UNKNOWN_EXCEPTION)');
        return;
      }
      const out = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      out.end(Buffer.concat(chunks));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, server };
}

test('a copy that stopped half-way is resumed: the rest arrives, nothing twice, the derived tables as at the source', async () => {
  const dst = await freshDest();
  const relay = await failingInserts(dst, 4);
  try {
    await assert.rejects(migrateHistory({ from: src.httpUrl, to: relay.url, toAuth: dst.credentials, batchRows: 40 }), /refused a statement: .*relay stopped here/);
  } finally {
    relay.server.close();
  }
  const part = Number(await dst.sql('SELECT count() FROM default.ct_types')) + Number(await dst.sql('SELECT count() FROM default.otel_logs'));
  assert.ok(part > 0 && part < 360 + 252, `${part} rows arrived before the stop`);

  const res = await migrateHistory({ from: src.httpUrl, to: dst.httpUrl, toAuth: dst.credentials, batchRows: 40 });
  const present = res.tables.reduce((n, t) => n + t.alreadyPresent, 0);
  assert.equal(present, part, 'what arrived the first time is recognised');
  for (const t of ['ct_types', 'otel_logs']) assert.equal(await fingerprint(dst, t), await fingerprint(src, t), `${t}: each row once`);
  assert.equal(await derived(dst), await derived(src));
  assert.equal(await chapters(dst), await chapters(src));
  assert.equal(await dst.sql("SELECT count() FROM system.tables WHERE database = 'default' AND name LIKE '\\_ct\\_copy\\_%'"), '0\n');
});

/** A relay in front of `source` whose Native answers break off half-way with the error ClickHouse writes into a body. */
async function failingSource(source: RunningServer): Promise<{ url: string; server: Server }> {
  const from = new URL(source.httpUrl);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const native = /FORMAT Native/.test(body.toString('utf8'));
      const out = request({ host: from.hostname, port: from.port, path: req.url, method: req.method, headers: { ...req.headers, host: from.host } }, (r: IncomingMessage) => {
        if (!native) {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          return;
        }
        const got: Buffer[] = [];
        r.on('data', (c: Buffer) => got.push(c));
        r.on('end', () => {
          const whole = Buffer.concat(got);
          const tag = 'f00dfeedf00dfeed';
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-clickhouse-exception-tag': tag });
          res.write(whole.subarray(0, Math.floor(whole.length / 2)));
          res.end(exceptionBlock(tag, 'Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)'));
        });
      });
      out.end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, server };
}

test('a source that fails in the middle of a page: the error names the old store, and none of the page is stored', async () => {
  const dst = await freshDest();
  const relay = await failingSource(src);
  try {
    await assert.rejects(migrateHistory({ from: relay.url, to: dst.httpUrl, toAuth: dst.credentials }), (e: Error & { hint?: string }) => {
      assert.match(e.message, /The old store at http:\/\/127\.0\.0\.1:\d+ failed while sending \w+: Code: 241\. .*MEMORY_LIMIT_EXCEEDED/);
      assert.ok(e.hint);
      return true;
    });
  } finally {
    relay.server.close();
  }
  for (const t of ['ct_types', 'otel_logs']) assert.equal(await dst.sql(`SELECT count() FROM default.${t}`), '0\n', `${t}: nothing half-stored`);
});

test('cancelling between pages stops the copy with the cancel message; what arrived stays (a re-run skips it)', async () => {
  const dst = await freshDest();
  const ac = new AbortController();
  await assert.rejects(
    migrateHistory({ from: src.httpUrl, to: dst.httpUrl, toAuth: dst.credentials, batchRows: 40, signal: ac.signal, onProgress: (p) => { if ((p.percent ?? 0) > 0) ac.abort(); } }),
    (e: Error & { code?: string }) => e.code === 'cancelled' && /cancelled/.test(e.message),
  );
  // The types table is copied first (tables in name order): at least its first page arrived, not all of it.
  const arrived = Number(await dst.sql('SELECT count() FROM default.ct_types'));
  assert.ok(arrived > 0 && arrived < 360, `${arrived} rows arrived`);
});
