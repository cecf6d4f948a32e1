// Docker mode's agent collector config (src/core/collector-agent.ts, written by
// src/stack/docker/forwarding.ts): parsed back with the yaml package, every pipeline names defined
// components, the local pipelines are untouched, the team exporter has TLS with the team CA file,
// the secret only as a ${file:…} reference, a file_storage queue and endless retries, and each
// privacy level's processors are the central overlay's (whose lists central-overlay.test.ts ties
// to src/core/team-privacy.ts). The official collector itself could not run here (no image pulls):
// `otelcol validate` did not check it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { agentCollectorConfig, AgentConfigError, TEAM_EXPORTER, TEAM_STORAGE, TEAM_SECRET_FILE, TEAM_CA_FILE } from '../../src/core/collector-agent';
import { dockerForwardStatus, exporterCounters, type StatusMemory } from '../../src/core/collector-metrics';
import { PRIVACY_LEVELS, type PrivacyLevel } from '../../src/core/team-privacy';
import { AGENT_CONFIG_FILE, FORWARD_STATE_FILE, forwardingVariables, loadCentralPrivacy, renderAgentConfig, restoreForwarding, snapshotForwarding, writeForwarding } from '../../src/stack/docker/forwarding';
import type { ForwardConfig } from '../../src/core/forward-config';

type Obj = Record<string, unknown>;
type Pipe = { receivers: string[]; processors: string[]; exporters: string[] };
const server = path.join(__dirname, '..', '..', 'telemetry-server');
const composeFile = path.join(server, 'docker-compose.yml');
const base = parse(readFileSync(path.join(server, 'otel-collector-config.yaml'), 'utf8')) as Obj;
const SECRET = 'ct_0123456789ab_THIS-IS-THE-MEMBER-SECRET';
const cfg = (privacy: PrivacyLevel, extra: Partial<ForwardConfig> = {}): ForwardConfig => ({
  version: 1, enabled: true, team: 'Book Team', member: 'alice', role: 'contributor', otlp_http: 'https://198.18.0.2:4318',
  query_url: 'https://198.18.0.2:8443', ca_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', secret: SECRET, privacy, history: 'none', ...extra,
});

function agent(privacy: PrivacyLevel): Obj & { service: { extensions: string[]; pipelines: Record<string, Pipe> }; exporters: Obj; processors: Obj; extensions: Obj; receivers: Obj } {
  return parse(renderAgentConfig(composeFile, cfg(privacy))) as never;
}

test('every level: complete config, local pipelines unchanged, team pipelines end in the team exporter', () => {
  const local = (base.service as { pipelines: Record<string, Pipe> }).pipelines;
  for (const level of PRIVACY_LEVELS) {
    const c = agent(level);
    for (const e of c.service.extensions) assert.ok(e in c.extensions, `${level}: extension ${e}`);
    for (const [name, p] of Object.entries(c.service.pipelines)) {
      for (const r of p.receivers) assert.ok(r in c.receivers, `${level}/${name}: receiver ${r}`);
      for (const x of p.processors) assert.ok(x in c.processors, `${level}/${name}: processor ${x}`);
      for (const x of p.exporters) assert.ok(x in c.exporters, `${level}/${name}: exporter ${x}`);
      assert.equal(p.processors[0], 'memory_limiter', `${level}/${name}`);
    }
    for (const s of ['logs', 'metrics', 'traces']) assert.deepEqual(c.service.pipelines[s], local[s], `${level}: local ${s} pipeline unchanged`);
    assert.deepEqual(c.exporters.clickhouse, (base.exporters as Obj).clickhouse, 'the ClickHouse exporter unchanged');
    const team = Object.keys(c.service.pipelines).filter((k) => k.endsWith('/team')).sort();
    assert.deepEqual(team, level === 'aggregates-only' ? ['logs/team', 'metrics/team'] : ['logs/team', 'metrics/team', 'traces/team'], level);
    for (const k of team) {
      assert.deepEqual(c.service.pipelines[k]!.exporters, [TEAM_EXPORTER]);
      assert.deepEqual(c.service.pipelines[k]!.receivers, ['otlp']);
    }
    for (const k of Object.keys(c.service.pipelines).filter((x) => !x.endsWith('/team'))) assert.ok(!c.service.pipelines[k]!.exporters.includes(TEAM_EXPORTER), `${k} stays local`);
  }
});

test('the team exporter: endpoint, TLS with the team CA file, Bearer from a ${file:…}, file_storage queue on the volume, endless retries', () => {
  const c = agent('no-content');
  const x = c.exporters[TEAM_EXPORTER] as { endpoint: string; tls: { ca_file: string }; headers: Record<string, string>; sending_queue: { enabled: boolean; storage: string }; retry_on_failure: { enabled: boolean; max_elapsed_time: string } };
  assert.equal(x.endpoint, 'https://198.18.0.2:4318');
  assert.equal(x.tls.ca_file, `/run/secrets/team/${TEAM_CA_FILE}`);
  assert.deepEqual(x.headers, { Authorization: `Bearer \${file:/run/secrets/team/${TEAM_SECRET_FILE}}` });
  assert.equal(x.sending_queue.enabled, true);
  assert.equal(x.sending_queue.storage, TEAM_STORAGE);
  assert.ok(c.service.extensions.includes(TEAM_STORAGE));
  const dir = (c.extensions[TEAM_STORAGE] as { directory: string }).directory;
  assert.ok(dir.startsWith(`${(c.extensions.file_storage as { directory: string }).directory}/`), 'on the collector-queue volume, its own folder');
  assert.equal(x.retry_on_failure.enabled, true);
  assert.equal(x.retry_on_failure.max_elapsed_time, '0s');
  const tel = (c.service as unknown as { telemetry: { metrics: { readers: { pull: { exporter: { prometheus: { host: string; port: number } } } }[] } } }).telemetry;
  assert.deepEqual(tel.metrics.readers[0]!.pull.exporter.prometheus, { host: '0.0.0.0', port: 8888 }, 'the metrics forwardStatus reads are published');
  const text = renderAgentConfig(composeFile, cfg('no-content'));
  assert.doesNotMatch(text, /THIS-IS-THE-MEMBER-SECRET|BEGIN CERTIFICATE/, 'neither the secret nor the CA is in the config');
  assert.throws(() => agentCollectorConfig(base, loadCentralPrivacy(composeFile, 'all'), { otlp_http: 'http://198.18.0.2:4318', privacy: 'all' }), AgentConfigError);
});

test('privacy: each level runs the central overlay\'s own processors, in its order, in the team pipelines only', () => {
  const want: Record<PrivacyLevel, Record<string, string[]>> = {
    all: { logs: [], metrics: [], traces: [] },
    'no-content': { logs: ['transform/no-content'], metrics: ['transform/no-content'], traces: ['transform/no-content'] },
    'aggregates-only': { logs: ['filter/aggregates-only', 'transform/aggregates-only'], metrics: ['transform/no-content', 'transform/aggregates-only'] },
  };
  for (const level of PRIVACY_LEVELS) {
    const c = agent(level);
    const central = loadCentralPrivacy(composeFile, level).collector.processors as Obj;
    for (const [signal, procs] of Object.entries(want[level])) {
      assert.deepEqual(c.service.pipelines[`${signal}/team`]!.processors, ['memory_limiter', ...procs, 'batch/team'], `${level}/${signal}`);
      for (const p of procs) assert.deepEqual(c.processors[p], central[p], `${level}: ${p} is the overlay's definition`);
    }
    for (const s of ['logs', 'metrics', 'traces']) assert.ok(!c.service.pipelines[s]!.processors.some((p) => p.includes('no-content') || p.includes('aggregates-only')), `${level}: local ${s} unfiltered`);
  }
});

test('writeForwarding: 0600 files in a 0700 folder, paused removes the agent config, undefined removes everything; history must be none', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-agent-'));
  writeForwarding(dir, composeFile, cfg('all'));
  for (const f of [AGENT_CONFIG_FILE, FORWARD_STATE_FILE, `team/${TEAM_SECRET_FILE}`, `team/${TEAM_CA_FILE}`]) assert.equal(statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
  assert.equal(statSync(path.join(dir, 'team')).mode & 0o777, 0o700);
  assert.equal(readFileSync(path.join(dir, 'team', TEAM_SECRET_FILE), 'utf8'), SECRET);
  assert.doesNotMatch(readFileSync(path.join(dir, FORWARD_STATE_FILE), 'utf8'), /MEMBER-SECRET/);
  const v1 = forwardingVariables(dir);
  assert.equal(v1.OTELCOL_CONFIG, path.join(dir, AGENT_CONFIG_FILE));
  assert.match(v1.OTELCOL_CONFIG_DIGEST!, /^[0-9a-f]{24}$/);
  writeForwarding(dir, composeFile, cfg('all', { secret: 'ct_0123456789ab_rotated' }));
  assert.notEqual(forwardingVariables(dir).OTELCOL_CONFIG_DIGEST, v1.OTELCOL_CONFIG_DIGEST, 'a new secret changes the digest (collector recreated)');
  assert.throws(() => writeForwarding(dir, composeFile, cfg('all', { history: 'all' })), /cannot move the history/);
  assert.throws(() => writeForwarding(dir, composeFile, cfg('all', { history: '2026-01-01' })), /since 2026-01-01/);
  // What configureForwarding puts back when the collector cannot start with new files.
  const snap = snapshotForwarding(dir);
  const digest = forwardingVariables(dir).OTELCOL_CONFIG_DIGEST;
  writeForwarding(dir, composeFile, cfg('aggregates-only', { secret: 'ct_0123456789ab_other', otlp_http: 'https://198.18.0.6:4318' }));
  assert.notEqual(forwardingVariables(dir).OTELCOL_CONFIG_DIGEST, digest);
  restoreForwarding(snap);
  assert.equal(forwardingVariables(dir).OTELCOL_CONFIG_DIGEST, digest, 'the previous files exactly');
  assert.equal(statSync(path.join(dir, 'team', TEAM_SECRET_FILE)).mode & 0o777, 0o600);
  writeForwarding(dir, composeFile, cfg('all', { enabled: false }));
  assert.deepEqual(forwardingVariables(dir), {}, 'paused: the base config again');
  // The queue folder: per target, and a new one after a drop (what was queued is never sent).
  const queueDir = () => (parse(readFileSync(path.join(dir, AGENT_CONFIG_FILE), 'utf8')) as { extensions: Record<string, { directory: string }> }).extensions[TEAM_STORAGE]!.directory;
  writeForwarding(dir, composeFile, cfg('all'));
  const first = queueDir();
  assert.match(first, /^\/var\/lib\/otelcol\/file_storage\/team-[0-9a-f]{16}$/);
  writeForwarding(dir, composeFile, cfg('no-content'));
  assert.equal(queueDir(), first, 'another privacy level: the same queue');
  writeForwarding(dir, composeFile, cfg('all', { team: 'Other Team' }));
  assert.notEqual(queueDir(), first, 'another team: never the first team\'s queue');
  writeForwarding(dir, composeFile, cfg('all', { enabled: false, drop_queue: true }));
  writeForwarding(dir, composeFile, undefined);
  writeForwarding(dir, composeFile, cfg('all'));
  assert.notEqual(queueDir(), first, 'after a drop (and even after forwarding was removed): a new queue');
  writeForwarding(dir, composeFile, undefined);
  assert.throws(() => statSync(path.join(dir, 'team', TEAM_SECRET_FILE)), /ENOENT/);
  assert.throws(() => statSync(path.join(dir, AGENT_CONFIG_FILE)), /ENOENT/);
  assert.throws(() => statSync(path.join(dir, FORWARD_STATE_FILE)), /ENOENT/);
});

test('forward status from the collector metrics: sent, failed, queue, failing streak, counters restarting', () => {
  const text = (sent: number, failed: number, queue: number, suffix = '_total') => [
    `otelcol_exporter_sent_log_records${suffix}{exporter="otlphttp/team",service_name="otelcol"} ${sent}`,
    `otelcol_exporter_sent_log_records${suffix}{exporter="clickhouse"} 999`,
    `otelcol_exporter_sent_metric_points${suffix}{exporter="otlphttp/team"} 1`,
    `otelcol_exporter_send_failed_log_records${suffix}{exporter="otlphttp/team"} ${failed}`,
    `otelcol_exporter_queue_size{data_type="logs",exporter="otlphttp/team"} ${queue}`,
    '# HELP otelcol_exporter_queue_size x',
  ].join('\n');
  assert.deepEqual(exporterCounters(text(5, 2, 3)), { sent: 6, failed: 2, queue: 3 });
  assert.deepEqual(exporterCounters(text(5, 2, 3, '')), { sent: 6, failed: 2, queue: 3 }, 'with or without _total');
  const info = { enabled: true, team: 'T', member: 'alice', enabled_at: '2026-11-30T00:00:00.000Z' };
  const mem: StatusMemory = {};
  let st = dockerForwardStatus(info, exporterCounters(text(5, 0, 0)), 10, mem, 't1');
  assert.equal(st.state, 'idle');
  assert.equal(st.delivered_rows, 6);
  assert.equal(st.local_rows, 10);
  assert.equal(st.last_delivery_at, 't1');
  st = dockerForwardStatus(info, exporterCounters(text(5, 4, 2)), 12, mem, 't2');
  assert.equal(st.state, 'failing');
  assert.equal(st.failing_since, 't2');
  assert.match(st.last_error!, /could not deliver 4/);
  st = dockerForwardStatus(info, exporterCounters(text(5, 8, 3)), 12, mem, 't3');
  assert.equal(st.failing_since, 't2', 'the streak keeps its start');
  st = dockerForwardStatus(info, exporterCounters(text(9, 8, 1)), 12, mem, 't4');
  assert.equal(st.state, 'delivering');
  assert.equal(st.failing_since, undefined);
  st = dockerForwardStatus(info, exporterCounters(text(0, 0, 0)), 12, mem, 't5');
  assert.equal(st.state, 'idle', 'a restarted collector (counters from 0) is not failing');
  assert.equal(dockerForwardStatus({ ...info, enabled: false }, { sent: 0, failed: 0, queue: 0 }, 1, {}).state, 'paused');
});
