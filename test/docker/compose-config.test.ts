/**
 * The compose file and the collector config, checked by real tools and against our schema:
 * Debian's docker-compose accepts the file; the collector pipelines use only components the config
 * defines; the exporter writes into tables our migrations create; ports are loopback-only.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildComposePlan, loadComposePlan } from '../../src/stack/docker/plan';
import { interpolateString } from '../../src/stack/docker/interpolate';
import { composeFile, repoRoot } from './helpers';

const collectorConfig = join(repoRoot, 'telemetry-server', 'otel-collector-config.yaml');
const migrationsDir = join(repoRoot, 'telemetry-server', 'clickhouse', 'migrations');

describe('telemetry-server/docker-compose.yml', () => {
  test("Debian's docker-compose accepts it and resolves the pinned images", () => {
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', 'ct-config-check', 'config'], { encoding: 'utf8', env: { ...process.env, CLICKHOUSE_IMAGE: '', OTELCOL_IMAGE: '' } });
    const cfg = parse(out) as { services: Record<string, { image: string }> };
    assert.match(cfg.services.clickhouse!.image, /^clickhouse\/clickhouse-server:\d+\.\d+/);
    assert.match(cfg.services['otel-collector']!.image, /^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
  });

  test('the image variables override the defaults, as Compose substitution does', () => {
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', 'ct-config-check', 'config'], {
      encoding: 'utf8',
      env: { ...process.env, CLICKHOUSE_IMAGE: 'example/ch:1', OTELCOL_IMAGE: 'example/col:2' },
    });
    const compose = parse(out) as { services: Record<string, { image: string }> };
    const plan = loadComposePlan(composeFile, 'p', { CLICKHOUSE_IMAGE: 'example/ch:1', OTELCOL_IMAGE: 'example/col:2' });
    for (const s of plan.services) assert.equal(s.image, compose.services[s.name]!.image);
  });

  test('every published port is bound to 127.0.0.1, and the defaults are 4317, 4318, 8123', () => {
    const plan = loadComposePlan(composeFile, 'p', {});
    const ports = plan.services.flatMap((s) => s.ports);
    assert.deepEqual(ports.map((p) => p.hostIp), ports.map(() => '127.0.0.1'));
    assert.deepEqual(ports.map((p) => p.hostPort).sort(), [4317, 4318, 8123]);
  });

  test('ClickHouse starts from our migrations, with data in named volumes, and the collector waits for it healthy', () => {
    const plan = loadComposePlan(composeFile, 'p', {});
    const ch = plan.services.find((s) => s.name === 'clickhouse')!;
    const bind = ch.mounts.find((m) => m.target === '/docker-entrypoint-initdb.d')!;
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
    const a = buildComposePlan(text, composeFile, 'p', { CLICKHOUSE_PASSWORD: '' });
    const b = buildComposePlan(text, composeFile, 'p', { CLICKHOUSE_PASSWORD: 'secret' });
    const c = buildComposePlan(text, composeFile, 'p', { CLICKHOUSE_PASSWORD: '' });
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
