// The central overlay for the official images (telemetry-server/central/): the collector
// configuration parses, every component a pipeline names is defined, identity is stamped before
// batch, the privacy processors' key lists and patterns are src/core/team-privacy.ts's, and the
// compose file mounts only files that exist. What could not run here: the collector and ClickHouse
// images themselves (no image pulls on this machine), so `otelcol validate` did not check OTTL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { AGGREGATE_EVENT_ATTRIBUTES, AGGREGATE_RESOURCE_ATTRIBUTES, CONTENT_ATTRIBUTES, CONTENT_SUFFIX_RE, isContentAttribute, PRIVACY_LEVELS } from '../../src/core/team-privacy';

const dir = path.join(__dirname, '..', '..', 'telemetry-server', 'central');
type Obj = Record<string, unknown>;
const load = (f: string) => parse(readFileSync(path.join(dir, f), 'utf8')) as Obj;

/** The collector's merge of several --config files: maps merge, everything else is replaced. */
function merge(a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Obj = { ...(a as Obj) };
    for (const [k, v] of Object.entries(b as Obj)) out[k] = merge(out[k], v);
    return out;
  }
  return b;
}

function config(level: string): Obj {
  return merge(load('collector/otel-collector.yaml'), load(`collector/privacy-${level}.yaml`)) as Obj;
}

function statements(proc: Obj): string[] {
  return Object.entries(proc).filter(([k]) => k.endsWith('_statements')).flatMap(([, v]) => (v as { statements: string[] }[]).flatMap((s) => s.statements));
}

test('each privacy level makes a complete collector config: every named component defined, identity then batch last', () => {
  for (const level of PRIVACY_LEVELS) {
    const c = config(level) as { receivers: Obj; processors: Obj; exporters: Obj; extensions: Obj; service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> } };
    assert.deepEqual(Object.keys(c.service.pipelines).sort(), ['logs', 'metrics', 'traces'], level);
    for (const e of c.service.extensions) assert.ok(e in c.extensions, `${level}: extension ${e}`);
    for (const [name, p] of Object.entries(c.service.pipelines)) {
      for (const r of p.receivers) assert.ok(r in c.receivers, `${level}/${name}: receiver ${r}`);
      for (const x of p.exporters) assert.ok(x in c.exporters, `${level}/${name}: exporter ${x}`);
      for (const x of p.processors) assert.ok(x in c.processors, `${level}/${name}: processor ${x}`);
      assert.equal(p.processors[0], 'memory_limiter');
      assert.equal(p.processors.at(-1), 'batch', `${level}/${name}: batch last`);
      if (!(level === 'aggregates-only' && name === 'traces')) {
        const id = p.processors.indexOf('resource/identity');
        assert.ok(id > 0 && id < p.processors.indexOf('batch'), `${level}/${name}: resource/identity before batch`);
        assert.ok(p.processors.indexOf('attributes/identity') > id, `${level}/${name}: record-level identity too`);
        // Identity after every privacy processor, as the team server does: what they keep is stamped.
        for (const x of p.processors.filter((q) => q.includes('no-content') || q.includes('aggregates-only'))) assert.ok(p.processors.indexOf(x) < id);
      }
    }
    const want = { all: [], 'no-content': ['transform/no-content'], 'aggregates-only': ['filter/aggregates-only', 'transform/aggregates-only'] }[level];
    for (const w of want) assert.ok(c.service.pipelines.logs!.processors.includes(w), `${level}: ${w}`);
    if (level === 'all') assert.ok(!c.service.pipelines.logs!.processors.some((x) => x.includes('/no-content') || x.includes('/aggregates-only')));
  }
});

test('receivers: TLS and the basicauth extension on gRPC and HTTP; identity from auth.username overwrites', () => {
  const c = load('collector/otel-collector.yaml') as { receivers: { otlp: { protocols: Record<string, { tls: Obj; auth: { authenticator: string } }> } }; extensions: Obj; processors: Record<string, Obj> };
  for (const proto of ['grpc', 'http']) {
    const p = c.receivers.otlp.protocols[proto]!;
    assert.ok(p.tls.cert_file && p.tls.key_file, proto);
    assert.equal(p.auth.authenticator, 'basicauth/members');
  }
  assert.ok((c.extensions['basicauth/members'] as { htpasswd: { file: string } }).htpasswd.file);
  assert.deepEqual((c.processors['resource/identity'] as { attributes: Obj[] }).attributes, [{ key: 'user_id', from_context: 'auth.username', action: 'upsert' }]);
  assert.deepEqual((c.processors['attributes/identity'] as { actions: Obj[] }).actions, [{ key: 'user_id', from_context: 'auth.username', action: 'update' }]);
});

test('privacy processors use exactly the lists and pattern of src/core/team-privacy.ts', () => {
  const c = load('collector/otel-collector.yaml') as { processors: Record<string, Obj> };
  const exact = `^(${CONTENT_ATTRIBUTES.map((k) => k.replace(/\./g, '[.]')).join('|')})$`;
  const patterns = new Set(statements(c.processors['transform/no-content']!).flatMap((s) => /^delete_matching_keys\(attributes, "(.*)"\)$/.exec(s)?.[1] ?? []));
  assert.deepEqual([...patterns].sort(), [exact, CONTENT_SUFFIX_RE.source].sort());
  // The two patterns together decide like isContentAttribute on every key we know of.
  const res = [...patterns].map((p) => new RegExp(p));
  const catalog = readdirKeys();
  for (const k of [...CONTENT_ATTRIBUTES, ...AGGREGATE_EVENT_ATTRIBUTES, ...AGGREGATE_RESOURCE_ATTRIBUTES, ...catalog, 'foo_prompt', 'x.message', 'input_tokens']) {
    assert.equal(res.some((r) => r.test(k)), isContentAttribute(k), k);
  }
  const agg = statements(c.processors['transform/aggregates-only']!);
  const keep = (ctx: string) => agg.filter((s) => s.startsWith('keep_keys(attributes, [') && s.includes(ctx));
  const lists = agg.filter((s) => s.startsWith('keep_keys(attributes, ["')).map((s) => JSON.parse(/keep_keys\(attributes, (\[.*\])\)/.exec(s)![1]!) as string[]);
  assert.ok(keep('event.name').length === 1);
  assert.deepEqual(lists.find((l) => l.includes('event.name')), [...AGGREGATE_EVENT_ATTRIBUTES]);
  for (const l of lists.filter((x) => !x.includes('event.name'))) assert.deepEqual(l, [...AGGREGATE_RESOURCE_ATTRIBUTES]);
});

/** Attribute keys from the reference catalogues of the real CLI, when present (../shared/reference). */
function readdirKeys(): string[] {
  const ref = path.join(__dirname, '..', '..', '..', 'shared', 'reference');
  const keys = new Set<string>();
  for (const f of ['catalog-2.1.197.json', 'catalog-2.1.332.json']) {
    const p = path.join(ref, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    for (const m of text.matchAll(/"([a-z][a-z0-9_.]{1,60})"\s*:/g)) keys.add(m[1]!);
  }
  return [...keys];
}

test('compose overlay: images are the official ones, every mounted file exists, secrets come from a folder, not the environment', () => {
  const c = load('docker-compose.yml') as { services: Record<string, { image: string; volumes: string[]; environment?: Obj; command?: string[] }> };
  assert.match(c.services.clickhouse!.image, /clickhouse\/clickhouse-server:/);
  assert.match(c.services['otel-collector']!.image, /otel\/opentelemetry-collector-contrib:/);
  for (const [name, s] of Object.entries(c.services)) {
    for (const v of s.volumes) {
      const src = v.split(':')[0]!;
      if (src.startsWith('./') || src.startsWith('../')) assert.ok(existsSync(path.join(dir, src)), `${name}: ${src} does not exist`);
      else if (v.startsWith('${')) assert.match(v, /^\$\{CT_CENTRAL_SECRETS:\?[^}]*\}\/[\w./-]+:\/run\/secrets\/|^\$\{CT_CENTRAL_SECRETS:\?[^}]*\}\/members\.htpasswd:/, `${name}: ${v}`);
    }
    for (const val of Object.values(s.environment ?? {})) assert.doesNotMatch(String(val), /password|secret/i);
  }
  const cmd = c.services['otel-collector']!.command!.join(' ');
  assert.match(cmd, /privacy-\$\{CT_PRIVACY:-all\}\.yaml/);
  for (const level of PRIVACY_LEVELS) assert.ok(c.services['otel-collector']!.volumes.some((v) => v.includes(`privacy-${level}.yaml`)), level);
  // The init script applies the same migrations and access.sql the CLI sends.
  const init = readFileSync(path.join(dir, 'clickhouse', '20-central.sh'), 'utf8');
  assert.match(init, /ct_migrations.*\/\*\.sql "\$ct_access"/);
  assert.doesNotMatch(init, /--password/);
});
