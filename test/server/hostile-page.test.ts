/**
 * Issue 8 with a real browser: headless Chromium opens a page served from another loopback port, and the page sends
 * what any web site can send to a local server without the author's consent — cross-origin "simple requests"
 * (`fetch` with `mode: 'no-cors'` and a text/plain body, and a `<form enctype="text/plain">` POST). The page cannot
 * read the answers, so the test checks the side effects: no file appears, no table loses or gains a row, no table
 * appears or disappears, the page's OTLP export is not stored.
 *
 * So that this cannot pass by accident, the same page first sends everything to a recording server (the browser
 * really sends these requests, with their bodies and an Origin header), and at the end the same bodies sent from
 * Node (no Origin, the writer credential, OTLP as JSON) do have their effect where the writer is allowed to.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { basicAuth, repoRoot, startServer, type RunningServer } from '../support/server';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

const chromiumBin = process.env.CT_CHROMIUM ?? '/usr/bin/chromium';
const artifacts = join(repoRoot, '.test-artifacts');

let srv: RunningServer;
let scratch: string;
let fileTarget: string;
let pageServer: Server;
let pageOrigin: string;
let browser: Browser;
let recorder: Server;
let recorderUrl: string;
const recorded: Array<{ method: string; url: string; origin?: string; contentType?: string; body: string }> = [];

/** The page's OTLP export: a user_prompt whose prompt text marks it as the page's (prompt text is stored). */
const PAGE_MARKER = 'sent-by-a-web-page';
const pageOtlpJson = JSON.stringify(logsRequest([{ name: 'api_request', attributes: { 'session.id': PAGE_MARKER, cost_usd: 99, model: PAGE_MARKER } }], { 'service.name': 'claude-code', user_id: PAGE_MARKER }));

/** The form's only field: a text/plain form body is `name=value\r\n`, so the `=` lands inside a comment. */
const FORM_FIELD = { name: 'DROP TABLE telemetry_events /*', value: '*/' };
const formBody = `${FORM_FIELD.name}=${FORM_FIELD.value}\r\n`;

function fileStatement(): string {
  return `INSERT INTO FUNCTION file('${fileTarget}', 'LineAsString') SELECT 'x'`;
}
const CREATE_STATEMENT = 'CREATE TABLE made_by_a_page (a UInt8) ENGINE = MergeTree ORDER BY a';
const DROP_STATEMENT = 'DROP TABLE telemetry_events';

/** Every table of the default database with its row count (views excluded: they hold no rows of their own). */
async function snapshot(): Promise<Record<string, number>> {
  const names = (await srv.sql("SELECT name FROM system.tables WHERE database = 'default' AND engine NOT IN ('View', 'MaterializedView') ORDER BY name FORMAT TSV"))
    .trim().split('\n').filter(Boolean);
  const out: Record<string, number> = {};
  for (const n of names) out[n] = Number((await srv.sql(`SELECT count() FROM \`${n}\``)).trim());
  return out;
}

/**
 * The hostile page. `?ch=…&otlp=…` name the ClickHouse HTTP and OTLP HTTP base URLs it attacks; the form targets
 * the ClickHouse URL. Its script sends the fetches when the test calls `attack()` and reports each as settled.
 */
function pageHtml(): string {
  return `<!doctype html><html><head><title>A page the author happens to visit</title>
<style>body{font:14px sans-serif;margin:2em} li{margin:.3em 0} code{background:#eee}</style></head><body>
<h1>Nice book tips (hostile page)</h1>
<p>Target: <code id="target"></code></p>
<ol id="log"></ol>
<form id="f" method="post" enctype="text/plain"><input type="hidden" name="${FORM_FIELD.name.replace(/"/g, '&quot;')}" value="${FORM_FIELD.value}"></form>
<script>
const q = new URLSearchParams(location.search);
const ch = q.get('ch'), otlp = q.get('otlp');
document.getElementById('target').textContent = ch + ' and ' + otlp;
document.getElementById('f').action = ch;
function note(t) { const li = document.createElement('li'); li.textContent = t; document.getElementById('log').append(li); }
async function send(what, url, body) {
  try {
    const r = await fetch(url, { mode: 'no-cors', method: 'POST', body });
    note(what + ': sent (answer unreadable to the page: ' + r.type + ')');
    return 'settled';
  } catch (e) {
    note(what + ': network error ' + e);
    return 'failed: ' + e;
  }
}
window.attack = async (o) => [
  await send('file() write', ch, o.file),
  await send('CREATE TABLE', ch, o.create),
  await send('DROP TABLE', ch, o.drop),
  await send('OTLP export as text/plain', otlp + '/v1/logs', o.otlp),
];
</script></body></html>`;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (b += d));
    req.on('end', () => resolve(b));
  });
}

/**
 * Opens the page against `ch`/`otlp`, runs the four fetches (each awaited inside the page), then submits the form
 * and waits for the form's answer. Returns the HTTP status of every request as the browser saw it.
 */
async function visit(page: Page, ch: string, otlp: string, shot?: string): Promise<number[]> {
  const statuses: number[] = [];
  const onResponse = (r: { url(): string; status(): number; request(): { method(): string } }) => {
    if (r.request().method() === 'POST') statuses.push(r.status());
  };
  page.on('response', onResponse);
  await page.goto(`${pageOrigin}/?ch=${encodeURIComponent(ch)}&otlp=${encodeURIComponent(otlp)}`);
  const results = await page.evaluate((o) => (window as unknown as { attack(o: unknown): Promise<string[]> }).attack(o), {
    file: fileStatement(), create: CREATE_STATEMENT, drop: DROP_STATEMENT, otlp: pageOtlpJson,
  });
  assert.deepEqual(results, ['settled', 'settled', 'settled', 'settled'], 'every fetch reached a server (an opaque answer, not a network error)');
  if (shot) await page.screenshot({ path: join(artifacts, shot) });
  const formAnswer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(ch));
  await page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit());
  await formAnswer;
  page.off('response', onResponse);
  return statuses;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'ct-hostile-'));
  fileTarget = join(scratch, 'pwned.txt');
  srv = await startServer();
  const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest([
    { name: 'api_request', attributes: { 'session.id': 's1', model: 'claude-sonnet-4-5', input_tokens: 10, output_tokens: 5, cost_usd: 0.1 } },
    { name: 'user_prompt', attributes: { 'session.id': 's1', prompt: '<REDACTED>', prompt_length: 12 } },
    { name: 'api_error', attributes: { 'session.id': 's1', model: 'claude-sonnet-4-5', status_code: '529', error: 'Overloaded' } },
  ], { 'service.name': 'claude-code', user_id: 'alice' })), 'application/x-protobuf');
  assert.equal(r.status, 200);

  pageServer = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(pageHtml());
  });
  pageOrigin = `http://127.0.0.1:${await listen(pageServer)}`;
  recorder = createServer((req, res) => {
    void readBody(req).then((body) => {
      recorded.push({ method: req.method ?? '', url: req.url ?? '', origin: req.headers.origin, contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('recorded\n');
    });
  });
  recorderUrl = `http://127.0.0.1:${await listen(recorder)}`;
  browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  pageServer?.close();
  recorder?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a hostile web page in a real browser', () => {
  test('the browser really sends all five requests cross-origin, bodies intact (to a recording server)', async () => {
    const page = await browser.newPage();
    try {
      const statuses = await visit(page, recorderUrl, recorderUrl);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    } finally {
      await page.close();
    }
    // (The browser also asks the recorder for /favicon.ico after the form's navigation: only the POSTs matter.)
    const posts = recorded.filter((r) => r.method === 'POST');
    assert.deepEqual(posts.map((r) => [r.method, r.url, r.body]), [
      ['POST', '/', fileStatement()],
      ['POST', '/', CREATE_STATEMENT],
      ['POST', '/', DROP_STATEMENT],
      ['POST', '/v1/logs', pageOtlpJson],
      ['POST', '/', formBody],
    ]);
    for (const r of posts) {
      assert.equal(r.origin, pageOrigin, 'a cross-origin request carries the page origin');
      assert.match(r.contentType ?? '', /^text\/plain/);
    }
  });

  test('against the real server: every request refused (403), no file, every table unchanged, the export not stored', async () => {
    const before = await snapshot();
    assert.ok(before.telemetry_events! > 0 && before.otel_logs! > 0, `the tables have rows: ${JSON.stringify(before)}`);
    const page = await browser.newPage();
    let statuses: number[];
    try {
      statuses = await visit(page, srv.httpUrl, srv.otlpHttpUrl, 'hostile-page.png');
    } finally {
      await page.close();
    }
    assert.deepEqual(statuses, [403, 403, 403, 403, 403], 'the browser saw every answer as 403');
    assert.equal(existsSync(fileTarget), false, 'no file was written');
    assert.deepEqual(await snapshot(), before, 'the same tables with the same row counts');
    assert.equal((await srv.sql(`SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = {m:String}`, { m: PAGE_MARKER })).trim(), '0');
  });

  test('the check is real: the same bodies from Node, as the writer and without Origin, do what the page could not', async () => {
    const auth = basicAuth(srv.credentials);
    const post = async (url: string, body: string, headers: Record<string, string> = {}) => {
      const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', ...headers } });
      return { status: res.status, text: await res.text() };
    };
    // Writing files stays refused even for the writer (ClickHouse's user_files rule); the statement itself is valid.
    const file = await post(srv.httpUrl, fileStatement(), auth);
    assert.equal(file.status, 403, file.text);
    assert.equal(existsSync(fileTarget), false);

    const create = await post(srv.httpUrl, CREATE_STATEMENT, auth);
    assert.equal(create.status, 200, create.text);
    assert.equal((await srv.sql("EXISTS TABLE made_by_a_page")).trim(), '1');

    // The OTLP body is a valid export: as JSON it is stored.
    const otlp = await post(`${srv.otlpHttpUrl}/v1/logs`, pageOtlpJson, { 'Content-Type': 'application/json' });
    assert.equal(otlp.status, 200, otlp.text);
    assert.equal((await srv.sql(`SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = {m:String}`, { m: PAGE_MARKER })).trim(), '1');

    // The form's text/plain body is valid SQL: the writer's POST of exactly it drops the table.
    const drop = await post(srv.httpUrl, formBody, auth);
    assert.equal(drop.status, 200, drop.text);
    assert.equal((await srv.sql('EXISTS TABLE telemetry_events')).trim(), '0');
  });
});
