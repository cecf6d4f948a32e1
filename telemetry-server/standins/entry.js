// Stand-in entrypoint: runs Chapter Telemetry's embedded server in the role of the official image
// it replaces (STANDIN_ROLE), ignoring the official image's arguments (e.g. the collector's --config).
// It reads the same mounted files the official images read, so the docker tier proves them:
// - clickhouse: the users.d writer entry (name + password_sha256_hex) and the config.d Host/Origin
//   rule, enforced by a small front on :8123 the way ClickHouse's http_handlers and password check
//   would; the engine's own read-only rule for anonymous requests is the embedded server's.
// - collector: the exporter's endpoint, username and `${file:…}` password in the mounted config.
'use strict';
const { createHash, timingSafeEqual } = require('node:crypto');
const { existsSync, readFileSync, readdirSync, writeFileSync, chmodSync, mkdirSync, symlinkSync } = require('node:fs');
const http = require('node:http');
const { join } = require('node:path');

const role = process.env.STANDIN_ROLE;
// Collector role: the inner server's OTLP/HTTP port, behind the forwarding front on 4318.
const INNER_OTLP_HTTP = 14318;
const say = (m) => process.stdout.write(`stand-in ${role}: ${m}\n`);
if (process.argv.length > 2) say(`ignoring arguments ${process.argv.slice(2).join(' ')}`);

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function fail(message) {
  process.stderr.write(`stand-in ${role}: ${message}\n`);
  process.exit(1);
}

if (role === 'clickhouse') startClickHouse();
else startCollector();

function startClickHouse() {
  const INNER_PORT = 18123;
  // The schema: where the compose file mounts our migrations (older compose files: the initdb folder).
  const migrations = '/app/telemetry-server/clickhouse/migrations';
  if (!existsSync(migrations)) {
    mkdirSync('/app/telemetry-server/clickhouse', { recursive: true });
    symlinkSync(existsSync('/chapter-telemetry/migrations') ? '/chapter-telemetry/migrations' : '/docker-entrypoint-initdb.d', migrations);
  }
  const usersDir = '/etc/clickhouse-server/users.d';
  let writer;
  for (const f of (() => { try { return readdirSync(usersDir); } catch { return []; } })()) {
    const m = /<([A-Za-z_][\w-]*)>\s*<password_sha256_hex>([0-9a-fA-F]{64})<\/password_sha256_hex>/.exec(read(join(usersDir, f)) ?? '');
    if (m) writer = { user: m[1], sha256: m[2].toLowerCase() };
  }
  const secret = read('/run/secrets/clickhouse-writer-password');
  if (writer) {
    if (secret === undefined) fail('users.d defines a writer but /run/secrets/clickhouse-writer-password is not mounted');
    // What the real server would find out later, when the collector's inserts fail: say it now.
    if (createHash('sha256').update(secret).digest('hex') !== writer.sha256) fail(`the mounted password does not match ${writer.user}'s password_sha256_hex`);
    // The embedded server's writer credential file (created on first start, else read).
    mkdirSync('/var/lib/clickhouse', { recursive: true, mode: 0o700 });
    writeFileSync('/var/lib/clickhouse/credentials.json', JSON.stringify({ user: writer.user, password: secret }), { mode: 0o600 });
    chmodSync('/var/lib/clickhouse/credentials.json', 0o600);
    say(`writer ${writer.user} from users.d`);
  }
  const rule = read('/etc/clickhouse-server/config.d/chapter-telemetry-http.xml') ?? '';
  const hostRe = /<Host>regex:([^<]+)<\/Host>/.exec(rule)?.[1];
  const originRe = /<Origin>regex:([^<]+)<\/Origin>/.exec(rule)?.[1];
  if (hostRe) say(`Host rule ${hostRe}`);
  const host = hostRe ? new RegExp(hostRe) : undefined;
  const origin = originRe ? new RegExp(originRe) : undefined;

  const refuse = (res, status, text) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': status === 401 ? '516' : '497' });
    res.end(`${text}\n`);
  };
  const sameSecret = (a, b) => {
    const x = createHash('sha256').update(a).digest();
    const y = createHash('sha256').update(b).digest();
    return timingSafeEqual(x, y);
  };
  http.createServer((req, res) => {
    const fullMatch = (re, v) => { const m = re.exec(v); return !!m && m[0] === v; };
    if (origin && req.headers.origin !== undefined && fullMatch(origin, req.headers.origin)) return refuse(res, 403, 'Code: 497. DB::Exception: Requests from a web page (an Origin header) are refused. (ACCESS_DENIED)');
    if (host && !fullMatch(host, req.headers.host ?? '')) return refuse(res, 403, 'Code: 497. DB::Exception: This server answers only requests for localhost, 127.0.0.1 or [::1] (Host header). (ACCESS_DENIED)');
    // ClickHouse's ways to send credentials: basic auth, X-ClickHouse-User/Key, user/password parameters.
    const url = new URL(req.url ?? '/', 'http://x');
    let user = req.headers['x-clickhouse-user'] ?? url.searchParams.get('user') ?? undefined;
    let password = req.headers['x-clickhouse-key'] ?? url.searchParams.get('password') ?? '';
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const text = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = text.indexOf(':');
      user = i < 0 ? text : text.slice(0, i);
      password = i < 0 ? '' : text.slice(i + 1);
    }
    if (user !== undefined && user !== '' && !(user === 'default' && password === '')) {
      if (!writer || user !== writer.user || !sameSecret(String(password), secret)) {
        return refuse(res, 401, `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`);
      }
    }
    // The rule was applied here; the inner server sees a loopback Host.
    const headers = { ...req.headers, host: `127.0.0.1:${INNER_PORT}` };
    const inner = http.request({ host: '127.0.0.1', port: INNER_PORT, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    inner.on('error', (err) => {
      if (!res.headersSent) refuse(res, 502, `stand-in: ${err.message}`);
      else res.destroy();
    });
    req.pipe(inner);
  }).listen(8123, '0.0.0.0');

  // A pid file left by a killed container (docker rm -f on a recreate) names a pid of another pid
  // namespace, which may be alive here (a healthcheck's wget): meaningless in this container, where
  // this is the only server on its volume. chDB's own file lock still refuses a real second holder.
  try { require('node:fs').rmSync('/var/lib/clickhouse/server.pid', { force: true }); } catch { /* none */ }
  // ClickHouse HTTP over chDB, data in the image's data volume, schema from the mounted migrations.
  require('/app/dist/server.js').main(['--data-dir', '/var/lib/clickhouse', '--host', '127.0.0.1', '--http-port', String(INNER_PORT), '--grpc-port', '9317', '--otlp-http-port', '9318']);
}

function startCollector() {
  // The exporter block of the mounted collector config: where to write, and as whom.
  const config = read('/etc/otelcol-contrib/config.yaml') ?? '';
  const exporter = /^exporters:\n([\s\S]*?)(?=^\S)/m.exec(config)?.[1] ?? '';
  const value = (key) => new RegExp(`^\\s+${key}:\\s*(\\S+)\\s*$`, 'm').exec(exporter)?.[1];
  const resolve = (v) => {
    const file = /^\$\{file:(.+)\}$/.exec(v ?? '');
    if (file) {
      const text = read(file[1]);
      if (text === undefined) fail(`the exporter's password file ${file[1]} is not mounted`);
      return text;
    }
    const env = /^\$\{env:(\w+)\}$/.exec(v ?? '');
    return env ? process.env[env[1]] : v;
  };
  const endpoint = process.env.STANDIN_CLICKHOUSE_URL || value('endpoint') || 'http://clickhouse:8123';
  const user = resolve(value('username'));
  const password = resolve(value('password'));
  // In this process only (the remote store reads them), never in the container's environment.
  if (user) process.env.CLICKHOUSE_USER = user;
  if (password !== undefined) process.env.CLICKHOUSE_PASSWORD = password;
  if (user) say(`writing to ${endpoint} as ${user}`);
  const team = teamExporter(config);
  // The collector: OTLP in on 4317 and (behind the front below) 4318, stored into the ClickHouse
  // service over HTTP.
  require('/app/dist/server.js').main(['--clickhouse-url', endpoint, '--data-dir', '/tmp/collector',
    '--host', '0.0.0.0', '--in-container', '--grpc-port', '4317', '--otlp-http-port', String(INNER_OTLP_HTTP), '--http-port', '8124']);
  startOtlpHttpFront(team);
}

// ---- forwarding to a team server (docker mode's agent config, src/core/collector-agent.ts) ----
// What the official collector does with the `otlphttp/team` exporter, for OTLP/HTTP input: every
// export the local store accepted is POSTed as received to <endpoint>/v1/<signal> over TLS,
// trusting only tls.ca_file, with the Authorization header (its ${file:…} read from the mounted
// file). NOT the official behaviour: the queue is in memory (the official one is file_storage on
// the volume), OTLP/gRPC input is not forwarded, and the privacy processors are not applied.
function teamExporter(config) {
  const block = /^ {2}otlphttp\/team:\n((?: {4}.*\n|\s*\n)*)/m.exec(config)?.[1];
  if (!block) return undefined;
  const unquote = (v) => (v ?? '').trim().replace(/^(["'])(.*)\1$/, '$2');
  const get = (key) => unquote(new RegExp(`^\\s+${key}:\\s*(.+)$`, 'm').exec(block)?.[1]);
  const endpoint = get('endpoint');
  const caFile = get('ca_file');
  const ca = read(caFile);
  if (ca === undefined) fail(`the team exporter's CA file ${caFile} is not mounted`);
  // The collector's file provider: the file's YAML value (a trailing newline is not part of it).
  const authorization = get('Authorization').replace(/\$\{file:([^}]+)\}/g, (_, f) => {
    const t = read(f);
    if (t === undefined) fail(`the team exporter's header file ${f} is not mounted`);
    return t.replace(/\n+$/, '');
  });
  const signals = ['logs', 'metrics', 'traces'].filter((s) => new RegExp(`^ {4}${s}/team:`, 'm').test(config));
  say(`forwarding ${signals.join(', ')} to ${endpoint} (CA ${caFile})`);
  return { endpoint: endpoint.replace(/\/+$/, ''), ca, authorization, signals };
}

/** Records in one OTLP export (log records, metric data points, spans), protobuf or JSON, as the collector counts them. */
function countRecords(signal, body, contentType) {
  if (/json/.test(contentType ?? '')) {
    const j = JSON.parse(body.toString('utf8'));
    let n = 0;
    if (signal === 'logs') for (const r of j.resourceLogs ?? []) for (const s of r.scopeLogs ?? []) n += (s.logRecords ?? []).length;
    if (signal === 'traces') for (const r of j.resourceSpans ?? []) for (const s of r.scopeSpans ?? []) n += (s.spans ?? []).length;
    if (signal === 'metrics') for (const r of j.resourceMetrics ?? []) for (const s of r.scopeMetrics ?? []) for (const m of s.metrics ?? []) {
      for (const k of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) n += (m[k]?.dataPoints ?? []).length;
    }
    return n;
  }
  const sub = (buf, field) => {
    const out = [];
    let i = 0;
    const varint = () => { let r = 0, m = 1; for (;;) { const b = buf[i++]; r += (b & 0x7f) * m; if (!(b & 0x80)) return r; m *= 128; } };
    while (i < buf.length) {
      const key = varint();
      const f = Math.floor(key / 8), w = key % 8;
      if (w === 0) varint();
      else if (w === 1) i += 8;
      else if (w === 5) i += 4;
      else if (w === 2) { const len = varint(); if (f === field) out.push(buf.subarray(i, i + len)); i += len; }
      else throw new Error(`wire type ${w}`);
    }
    return out;
  };
  let n = 0;
  for (const r of sub(body, 1)) for (const s of sub(r, 2)) {
    if (signal !== 'metrics') { n += sub(s, 2).length; continue; }
    for (const m of sub(s, 2)) for (const f of [5, 7, 9, 10, 11]) for (const d of sub(m, f)) n += sub(d, 1).length;
  }
  return n;
}

function startOtlpHttpFront(team) {
  const https = require('node:https');
  const zlib = require('node:zlib');
  const counters = { sent: { logs: 0, metrics: 0, traces: 0 }, failed: { logs: 0, metrics: 0, traces: 0 } };
  const queue = [];
  let sending = false;
  const post = (item) => new Promise((done) => {
    const u = new URL(`${team.endpoint}/v1/${item.signal}`);
    const headers = { 'content-type': item.contentType, authorization: team.authorization };
    if (item.encoding) headers['content-encoding'] = item.encoding;
    const req = https.request(u, { method: 'POST', headers, ca: team.ca, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode >= 200 && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(e.message));
    req.end(item.body);
  });
  const drain = async () => {
    if (sending) return;
    sending = true;
    while (queue.length > 0) {
      const item = queue[0];
      const err = await post(item);
      if (err) {
        counters.failed[item.signal] += item.records;
        say(`team export of ${item.records} ${item.signal} record(s) failed (${err}); retrying`);
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      counters.sent[item.signal] += item.records;
      queue.shift();
    }
    sending = false;
  };
  http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const inner = http.request({ host: '127.0.0.1', port: INNER_OTLP_HTTP, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        const signal = /^\/v1\/(logs|metrics|traces)\b/.exec(req.url ?? '')?.[1];
        if (!team || !signal || !team.signals.includes(signal) || req.method !== 'POST' || (r.statusCode ?? 500) >= 300) return;
        let records = 0;
        try {
          const encoding = req.headers['content-encoding'];
          records = countRecords(signal, encoding === 'gzip' ? zlib.gunzipSync(body) : body, req.headers['content-type']);
        } catch (e) {
          say(`could not count a ${signal} export: ${e.message}`);
        }
        queue.push({ signal, body, contentType: req.headers['content-type'] ?? 'application/x-protobuf', encoding: req.headers['content-encoding'], records });
        void drain();
      });
      inner.on('error', (err) => { if (!res.headersSent) { res.writeHead(502); res.end(err.message); } else res.destroy(); });
      inner.end(body);
    });
  }).listen(4318, '0.0.0.0');
  // The collector's own metrics (Prometheus text on :8888), the series forwardStatus() reads.
  http.createServer((req, res) => {
    const e = 'exporter="otlphttp/team"';
    const lines = [];
    if (team) {
      lines.push(`otelcol_exporter_sent_log_records_total{${e}} ${counters.sent.logs}`, `otelcol_exporter_sent_metric_points_total{${e}} ${counters.sent.metrics}`, `otelcol_exporter_sent_spans_total{${e}} ${counters.sent.traces}`);
      lines.push(`otelcol_exporter_send_failed_log_records_total{${e}} ${counters.failed.logs}`, `otelcol_exporter_send_failed_metric_points_total{${e}} ${counters.failed.metrics}`, `otelcol_exporter_send_failed_spans_total{${e}} ${counters.failed.traces}`);
      lines.push(`otelcol_exporter_queue_size{data_type="logs",${e}} ${queue.length}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n') + '\n');
  }).listen(8888, '0.0.0.0');
}
