/**
 * The compose file and the collector config, checked by real tools and against our schema:
 * Debian's docker-compose accepts the file; the collector pipelines use only components the config
 * defines; the exporter writes into tables our migrations create; ports are loopback-only.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Session } from 'chdb';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildComposePlan, loadComposePlan, type ComposePlan } from '../../src/stack/docker/plan';
import { interpolateString } from '../../src/stack/docker/interpolate';
import { ensureWriterSecret, sha256Hex } from '../../src/stack/docker/writer-secret';
import { WRITER_USER } from '../../src/stack/types';
import { composeFile, repoRoot } from './helpers';

/** The compose file needs the writer secrets folder (the backend names it; by hand you export it). */
const SECRETS = '/tmp/ct-secrets-for-config-check';
const VARS = { CHAPTER_TELEMETRY_SECRETS: SECRETS };

const collectorConfig = join(repoRoot, 'telemetry-server', 'otel-collector-config.yaml');
const migrationsDir = join(repoRoot, 'telemetry-server', 'clickhouse', 'migrations');

describe('telemetry-server/docker-compose.yml', () => {
  test("Debian's docker-compose accepts it and resolves the pinned images", () => {
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', 'ct-config-check', 'config'], { encoding: 'utf8', env: { ...process.env, ...VARS, CLICKHOUSE_IMAGE: '', OTELCOL_IMAGE: '' } });
    const cfg = parse(out) as { services: Record<string, { image: string }> };
    assert.match(cfg.services.clickhouse!.image, /^clickhouse\/clickhouse-server:\d+\.\d+/);
    assert.match(cfg.services['otel-collector']!.image, /^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
  });

  test('the image variables override the defaults, as Compose substitution does', () => {
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', 'ct-config-check', 'config'], {
      encoding: 'utf8',
      env: { ...process.env, ...VARS, CLICKHOUSE_IMAGE: 'example/ch:1', OTELCOL_IMAGE: 'example/col:2' },
    });
    const compose = parse(out) as { services: Record<string, { image: string }> };
    const plan = loadComposePlan(composeFile, 'p', { ...VARS, CLICKHOUSE_IMAGE: 'example/ch:1', OTELCOL_IMAGE: 'example/col:2' });
    for (const s of plan.services) assert.equal(s.image, compose.services[s.name]!.image);
  });

  test('every published port is bound to 127.0.0.1, and the defaults are 4317, 4318, 8123 (+ 18888: the collector\'s own metrics)', () => {
    const plan = loadComposePlan(composeFile, 'p', VARS);
    const ports = plan.services.flatMap((s) => s.ports);
    assert.deepEqual(ports.map((p) => p.hostIp), ports.map(() => '127.0.0.1'));
    assert.deepEqual(ports.map((p) => p.hostPort).sort(), [18888, 4317, 4318, 8123]);
    assert.equal(ports.find((p) => p.hostPort === 18888)?.containerPort, 8888);
  });

  test('forwarding variables: OTELCOL_CONFIG replaces the mounted collector config, its digest recreates the collector', () => {
    const text = readFileSync(composeFile, 'utf8');
    const col = (vars: Record<string, string>) => buildComposePlan(text, composeFile, 'p', { ...VARS, ...vars }).services.find((s) => s.name === 'otel-collector')!;
    const plain = col({});
    assert.equal(plain.mounts.find((m) => m.target === '/etc/otelcol-contrib/config.yaml')?.source, collectorConfig);
    assert.equal(plain.mounts.find((m) => m.target === '/run/secrets/team')?.readOnly, true);
    const agent = col({ OTELCOL_CONFIG: '/s/otel-collector-agent.yaml', OTELCOL_CONFIG_DIGEST: 'abc' });
    assert.equal(agent.mounts.find((m) => m.target === '/etc/otelcol-contrib/config.yaml')?.source, '/s/otel-collector-agent.yaml');
    const rotated = col({ OTELCOL_CONFIG: '/s/otel-collector-agent.yaml', OTELCOL_CONFIG_DIGEST: 'abd' });
    assert.notEqual(agent.configHash, plain.configHash);
    assert.notEqual(agent.configHash, rotated.configHash, 'a new secret or CA (same path) still recreates');
    assert.deepEqual(Object.keys(agent.environment), Object.keys(plain.environment), 'nothing of forwarding enters the environment');
  });

  test('ClickHouse starts from our migrations, with data in named volumes, and the collector waits for it healthy', () => {
    const plan = loadComposePlan(composeFile, 'p', VARS);
    const ch = plan.services.find((s) => s.name === 'clickhouse')!;
    const bind = ch.mounts.find((m) => m.target === '/chapter-telemetry/migrations')!;
    assert.equal(bind.source, migrationsDir);
    assert.equal(ch.mounts.find((m) => m.target === '/var/lib/clickhouse')?.type, 'volume');
    assert.ok(ch.healthcheck);
    const col = plan.services.find((s) => s.name === 'otel-collector')!;
    assert.deepEqual(col.dependsOn, [{ service: 'clickhouse', condition: 'service_healthy' }]);
    assert.equal(col.mounts.find((m) => m.target === '/var/lib/otelcol/file_storage')?.type, 'volume');
    assert.deepEqual(plan.services.map((s) => s.name), ['clickhouse', 'otel-collector']);
  });

  test('substitution: defaults, overrides, empty values, $$ escapes and required variables', () => {
    assert.equal(interpolateString('${A:-x}', {}), 'x');
    assert.equal(interpolateString('${A:-x}', { A: '' }), 'x');
    assert.equal(interpolateString('${A-x}', { A: '' }), '');
    assert.equal(interpolateString('$A/${B}', { A: '1', B: '2' }), '1/2');
    assert.equal(interpolateString('$$HOME', {}), '$HOME');
    assert.throws(() => interpolateString('${A:?set A}', {}), /set A/);
  });

  test('a changed service config changes its hash (that is what triggers a recreate)', () => {
    const text = readFileSync(composeFile, 'utf8');
    const a = buildComposePlan(text, composeFile, 'p', { ...VARS, CLICKHOUSE_NOFILE: '1000' });
    const b = buildComposePlan(text, composeFile, 'p', { ...VARS, CLICKHOUSE_NOFILE: '1001' });
    const c = buildComposePlan(text, composeFile, 'p', { ...VARS, CLICKHOUSE_NOFILE: '1000' });
    assert.notEqual(a.services[0]!.configHash, b.services[0]!.configHash);
    assert.equal(a.services[0]!.configHash, c.services[0]!.configHash);
  });
});

describe('telemetry-server/otel-collector-config.yaml', () => {
  const cfg = parse(readFileSync(collectorConfig, 'utf8')) as Record<string, Record<string, unknown>>;
  const defined = (kind: string) => new Set(Object.keys(cfg[kind] ?? {}));

  test('pipelines reference only receivers, processors and exporters the config defines', () => {
    const pipelines = (cfg.service!.pipelines ?? {}) as Record<string, Record<string, string[]>>;
    assert.deepEqual(Object.keys(pipelines).sort(), ['logs', 'metrics', 'traces']);
    for (const [name, p] of Object.entries(pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters']) {
        for (const c of p[kind] ?? []) assert.ok(defined(kind).has(c), `pipeline ${name} uses undefined ${kind} ${c}`);
      }
      assert.equal(p.processors![0], 'memory_limiter', `${name}: memory_limiter must come first`);
    }
    for (const e of cfg.service!.extensions as string[]) assert.ok(defined('extensions').has(e), `undefined extension ${e}`);
  });

  test('the exporter never creates tables, keeps a persistent queue, and its storage is a defined extension', () => {
    const ch = (cfg.exporters as Record<string, Record<string, unknown>>).clickhouse!;
    assert.equal(ch.create_schema, false);
    assert.equal(ch.database, 'default');
    const q = ch.sending_queue as { storage?: string; enabled?: boolean };
    assert.equal(q.enabled, true);
    assert.ok(defined('extensions').has(q.storage!), 'sending_queue.storage names an extension');
    assert.ok((cfg.service!.extensions as string[]).includes('health_check'));
  });

  test("the exporter's table names are tables our migrations create", () => {
    const sql = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).map((f) => readFileSync(join(migrationsDir, f), 'utf8')).join('\n');
    const created = new Set([...sql.matchAll(/CREATE TABLE IF NOT EXISTS (?:default\.)?`?(\w+)`?/g)].map((m) => m[1]));
    const ch = (cfg.exporters as Record<string, Record<string, unknown>>).clickhouse!;
    const names = [ch.logs_table_name, ch.traces_table_name, ...Object.values(ch.metrics_tables as Record<string, { name: string }>).map((t) => t.name)] as string[];
    assert.equal(names.length, 7);
    for (const n of names) assert.ok(created.has(n), `${n} is not created by the migrations`);
  });
});

/** A real XML parser (Debian's libxml2 xmllint): the file parses, and an XPath gives a value. */
function xpath(file: string, path: string): string {
  return execFileSync('xmllint', ['--xpath', `string(${path})`, file], { encoding: 'utf8' }).replace(/\n$/, '');
}

describe('docker mode access files (users.d, config.d, initdb) — what can be checked without a real ClickHouse', () => {
  const chDir = join(repoRoot, 'telemetry-server', 'clickhouse');
  const usersXml = join(chDir, 'users.d', 'default-readonly.xml');
  const httpXml = join(chDir, 'config.d', 'http-host-rule.xml');
  const initScript = join(chDir, 'initdb', '10-migrations-as-writer.sh');
  const plan: ComposePlan = loadComposePlan(composeFile, 'p', VARS);
  const service = (name: string) => plan.services.find((s) => s.name === name)!;
  const mountOf = (svc: string, target: string) => service(svc).mounts.find((m) => m.target === target);
  const collector = parse(readFileSync(collectorConfig, 'utf8')) as { exporters: { clickhouse: { endpoint: string; username: string; password: string } } };

  test('every XML file parses (xmllint), the generated writer file too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-writer-xml-'));
    ensureWriterSecret(dir);
    for (const f of [usersXml, httpXml, join(dir, 'writer-users.xml')]) execFileSync('xmllint', ['--noout', f]);
  });

  test('default: no password, a profile with readonly = 1 that the file defines, grants without file/URL/remote sources', () => {
    const profile = xpath(usersXml, '/clickhouse/users/default/profile');
    assert.equal(profile, 'chapter_telemetry_readonly');
    assert.equal(xpath(usersXml, `/clickhouse/profiles/${profile}/readonly`), '1');
    assert.equal(xpath(usersXml, 'count(/clickhouse/users/default/password)'), '0');
    assert.equal(xpath(usersXml, '/clickhouse/users/default/access_management'), '0');
    const grants = execFileSync('xmllint', ['--xpath', '/clickhouse/users/default/grants/query/text()', usersXml], { encoding: 'utf8' });
    assert.match(grants, /GRANT SELECT, SHOW ON default\.\*/);
    assert.doesNotMatch(grants, /\b(ALL|INSERT|FILE|URL|REMOTE|S3|SOURCES)\b/);
  });

  test('every setting of the readonly profile is one the engine knows and takes (a real server refuses to load a users.d file naming an unknown one)', () => {
    const profile = xpath(usersXml, '/clickhouse/users/default/profile');
    const names = execFileSync('xmllint', ['--xpath', `/clickhouse/profiles/${profile}/*`, usersXml], { encoding: 'utf8' })
      .match(/<(\w+)>/g)!.map((t) => t.slice(1, -1));
    assert.ok(names.includes('do_not_merge_across_partitions_select_final'), 'readers merge FINAL per partition, as the embedded server\'s do');
    const dir = mkdtempSync(join(tmpdir(), 'ct-profile-settings-'));
    const engine = new Session(dir);
    try {
      for (const name of names) {
        const value = xpath(usersXml, `/clickhouse/profiles/${profile}/${name}`);
        assert.equal(engine.query(`SELECT count() FROM system.settings WHERE name = '${name}'`, 'TSV').trim(), '1', `${name} is a setting`);
        // readonly last: the engine takes each value as the profile gives it.
        if (name !== 'readonly') engine.query(`SET ${name} = ${value}`);
      }
    } finally {
      engine.close();
    }
  });

  test('the writer: the name WRITER_USER, only a SHA-256 of the generated password, grants on default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-writer-xml-'));
    const creds = ensureWriterSecret(dir);
    const file = join(dir, 'writer-users.xml');
    assert.equal(creds.user, WRITER_USER);
    assert.equal(xpath(file, `/clickhouse/users/${WRITER_USER}/password_sha256_hex`), sha256Hex(creds.password));
    assert.equal(xpath(file, `count(/clickhouse/users/${WRITER_USER}/password)`), '0');
    assert.ok(!readFileSync(file, 'utf8').includes(creds.password));
  });

  test('names match: compose mounts, collector config and the migrations script agree on users, paths and the service name', () => {
    // The files land where the official image reads them.
    assert.equal(mountOf('clickhouse', '/etc/clickhouse-server/users.d/chapter-telemetry-default.xml')?.source, usersXml);
    assert.equal(mountOf('clickhouse', '/etc/clickhouse-server/config.d/chapter-telemetry-http.xml')?.source, httpXml);
    assert.equal(mountOf('clickhouse', '/etc/clickhouse-server/users.d/chapter-telemetry-writer.xml')?.source, join(SECRETS, 'writer-users.xml'));
    assert.equal(mountOf('clickhouse', '/docker-entrypoint-initdb.d/10-migrations-as-writer.sh')?.source, initScript);
    // One secret, mounted where the init script and the collector's file provider read it.
    const secretTarget = '/run/secrets/clickhouse-writer-password';
    for (const svc of ['clickhouse', 'otel-collector']) {
      const m = mountOf(svc, secretTarget);
      assert.equal(m?.source, join(SECRETS, 'writer-password'), svc);
      assert.equal(m?.readOnly, true);
    }
    const script = readFileSync(initScript, 'utf8');
    assert.ok(script.includes(`:-${secretTarget}}`));
    assert.ok(script.includes(`:-${WRITER_USER}}`), 'the init script applies the migrations as the writer');
    assert.ok(script.includes(`:-${mountOf('clickhouse', '/chapter-telemetry/migrations')!.target}}`));
    const code = script.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    assert.doesNotMatch(code, /--password|-p\b/, 'the password never goes on a command line');
    assert.match(code, /--config-file "\$ct_client_config"/);
    const ex = collector.exporters.clickhouse;
    assert.equal(ex.username, WRITER_USER);
    assert.equal(ex.password, `\${file:${secretTarget}}`);
    // No credential in any container environment; the entrypoint does not redefine users.
    for (const s of plan.services) assert.ok(!Object.keys(s.environment).some((k) => /PASSWORD|USER$/.test(k)), `${s.name} env`);
    assert.equal(service('clickhouse').environment.CLICKHOUSE_SKIP_USER_SETUP, '1');
    // The exporter's host is the ClickHouse service, which the Host rule admits.
    const host = new URL(ex.endpoint).host;
    assert.equal(new URL(ex.endpoint).hostname, 'clickhouse');
    assert.ok(plan.services.some((s) => s.name === 'clickhouse'));
    const rule = new RegExp(xpath(httpXml, '/clickhouse/http_handlers/rule[2]/headers/Host').replace(/^regex:/, ''));
    assert.ok(rule.test(host), `${host} is admitted`);
  });

  test('the Host rule: loopback names with or without a port pass, anything else falls through to the 403 rule', () => {
    const rules = Number(xpath(httpXml, 'count(/clickhouse/http_handlers/rule)'));
    assert.equal(rules, 4);
    assert.equal(xpath(httpXml, 'count(/clickhouse/http_handlers/defaults)'), '0', 'no built-in handlers (play, dashboard) without the Host rule');
    assert.equal(xpath(httpXml, '/clickhouse/http_handlers/rule[1]/headers/Origin'), 'regex:.+');
    assert.equal(xpath(httpXml, '/clickhouse/http_handlers/rule[1]/handler/status'), '403');
    const hostRules = [2, 3].map((i) => xpath(httpXml, `/clickhouse/http_handlers/rule[${i}]/headers/Host`));
    assert.equal(hostRules[0], hostRules[1], 'ping and queries share one Host rule');
    assert.equal(xpath(httpXml, '/clickhouse/http_handlers/rule[3]/handler/type'), 'dynamic_query_handler');
    assert.equal(xpath(httpXml, '/clickhouse/http_handlers/rule[3]/handler/query_param_name'), 'query');
    assert.equal(xpath(httpXml, 'count(/clickhouse/http_handlers/rule[4]/*)'), '1', 'the last rule has no filter: it catches the rest');
    assert.equal(xpath(httpXml, '/clickhouse/http_handlers/rule[4]/handler/status'), '403');
    const source = hostRules[0]!.replace(/^regex:/, '');
    // RE2 (ClickHouse's regex engine) has no lookaround or backreferences: keep to the common subset.
    assert.doesNotMatch(source, /\(\?[=!<]|\\\d/);
    const re = new RegExp(source);
    const full = (h: string) => re.exec(h)?.[0] === h;
    for (const ok of ['localhost', 'localhost:8123', '127.0.0.1', '127.0.0.1:18123', '[::1]', '[::1]:8123', 'clickhouse:8123']) assert.ok(full(ok), ok);
    for (const bad of ['evil.example', 'evil.example:8123', 'localhost.evil.example', '127.0.0.1.nip.io', 'clickhouse.evil', '', 'localhost:80:80', '0.0.0.0:8123']) assert.ok(!full(bad), bad);
  });
});

describe('clickhouse/initdb/10-migrations-as-writer.sh, sourced as the official entrypoint does', () => {
  const initScript = join(repoRoot, 'telemetry-server', 'clickhouse', 'initdb', '10-migrations-as-writer.sh');

  /**
   * No real clickhouse-client exists here (no image can be pulled, Debian's is from 2018), so a
   * recording stand-in takes its place on PATH: it writes down its arguments, its client config
   * (parsed by xmllint) and the SQL it was fed. What is checked is the script's own work.
   */
  function recordingClient(dir: string): string {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'clickhouse-client'), `#!/bin/bash
cfg=""; prev=""
for a in "$@"; do [ "$prev" = "--config-file" ] && cfg="$a"; prev="$a"; done
{
  echo "argv: $*"
  echo "mode: $(stat -c %a "$cfg")"
  echo "user: $(xmllint --xpath 'string(/clickhouse/user)' "$cfg")"
  echo "password: $(xmllint --xpath 'string(/clickhouse/password)' "$cfg")"
  echo "config: $cfg"
  echo "sql: $(head -c 200 | tr '\\n' ' ')"
} >> "$CT_RECORD"
if [ "$(grep -c '^argv:' "$CT_RECORD")" = "\${CT_FAIL_AT:-0}" ]; then echo "Code: 62. DB::Exception: stand-in failure" >&2; exit 3; fi
`, { mode: 0o755 });
    return bin;
  }

  function run(dir: string, env: Record<string, string>): { code: number; stderr: string; record: string } {
    const r = spawnSync('bash', ['-c', 'set -eo pipefail; shopt -s nullglob; . "$0"; echo sourced-ok', initScript], {
      encoding: 'utf8',
      env: { PATH: `${recordingClient(dir)}:${process.env.PATH}`, CT_RECORD: join(dir, 'record'), ...env },
    });
    let record = '';
    try {
      record = readFileSync(join(dir, 'record'), 'utf8');
    } catch {
      record = '';
    }
    return { code: r.status ?? -1, stderr: r.stderr + r.stdout, record };
  }

  test('every migration in order, as the writer, the password only in a 0600 config file it removes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-initdb-'));
    const secrets = mkdtempSync(join(tmpdir(), 'ct-initdb-secret-'));
    const creds = ensureWriterSecret(secrets);
    const r = run(dir, { CHAPTER_TELEMETRY_WRITER_SECRET: join(secrets, 'writer-password'), CHAPTER_TELEMETRY_MIGRATIONS: migrationsDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sourced-ok/, 'sourcing it does not end the entrypoint');
    const files = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
    const calls = r.record.split('argv: ').slice(1);
    assert.equal(calls.length, files.length);
    for (const c of calls) {
      assert.doesNotMatch(c.split('\n')[0]!, new RegExp(creds.password), 'no password in the arguments');
      assert.match(c, /^--config-file \S+ --host 127\.0\.0\.1 --multiquery$/m);
      assert.match(c, /^mode: 600$/m);
      assert.match(c, new RegExp(`^user: ${WRITER_USER}$`, 'm'));
      assert.ok(c.includes(`password: ${creds.password}\n`));
    }
    const firstSql = readFileSync(join(migrationsDir, files[0]!), 'utf8').slice(0, 40).replace(/\n/g, ' ');
    assert.ok(calls[0]!.includes(`sql: ${firstSql}`), 'the first call got the first migration on stdin');
    const config = /^config: (.+)$/m.exec(r.record)![1]!;
    assert.equal(existsSync(config), false, 'the client config with the password is removed');
  });

  test('a missing secret or a failing migration stops the start-up, and the password file is not left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-initdb-'));
    const missing = run(dir, { CHAPTER_TELEMETRY_WRITER_SECRET: join(dir, 'nope'), CHAPTER_TELEMETRY_MIGRATIONS: migrationsDir });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /is missing or empty/);
    const secrets = mkdtempSync(join(tmpdir(), 'ct-initdb-secret-'));
    ensureWriterSecret(secrets);
    const dir2 = mkdtempSync(join(tmpdir(), 'ct-initdb-'));
    const failing = run(dir2, { CHAPTER_TELEMETRY_WRITER_SECRET: join(secrets, 'writer-password'), CHAPTER_TELEMETRY_MIGRATIONS: migrationsDir, CT_FAIL_AT: '2' });
    assert.notEqual(failing.code, 0);
    assert.doesNotMatch(failing.stderr, /sourced-ok/);
    assert.match(failing.stderr, /migration .* failed/);
    assert.equal(failing.record.split('argv: ').length - 1, 2, 'no migration after the failed one');
    const config = /^config: (.+)$/m.exec(failing.record)![1]!;
    assert.equal(existsSync(config), false);
  });
});
