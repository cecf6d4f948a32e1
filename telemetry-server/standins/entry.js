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
  // The collector: OTLP in on 4317/4318, stored into the ClickHouse service over HTTP.
  require('/app/dist/server.js').main(['--clickhouse-url', endpoint, '--data-dir', '/tmp/collector',
    '--host', '0.0.0.0', '--in-container', '--grpc-port', '4317', '--otlp-http-port', '4318', '--http-port', '8124']);
}
