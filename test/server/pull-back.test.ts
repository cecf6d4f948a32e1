/**
 * Pull-back for "Revert to Local" (issue 10), real parts: one team server (`--team DIR`, TLS with the
 * team CA) in its own network namespace; local embedded servers on loopback forwarding to it. The
 * member's rows that reached the team from elsewhere (a second machine of the same member) come back
 * into the local store once; what the local store already holds, also as a privacy-trimmed copy at
 * the team, is not added again; counts add up; a second pull adds nothing; pulled rows never travel
 * back up. The stack side (`requestPullBack`, what `StackBackend.pullBack()` calls) is what runs.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { addMember, type IssuedMember } from '../../src/server/team/admin';
import type { PullBackResult } from '../../src/core/forward-config';
import { requestPullBack, writeForwardConfig } from '../../src/stack/forward-file';
import { encodeLogs, encodeMetrics, eventually, logsRequest, nowNanos, postOtlp } from '../support/otlp';
import { forwardConfig, forwardSettled, forwardStatus } from '../support/forwarding';
import type { RunningServer } from '../support/server';
import { serversPerSuite } from '../support/server-per-file';
import { startTeam, teamSql, type Team } from '../support/team-server';

const PORTS = { grpc: 26317, otlpHttp: 26318, http: 29223 };

describe('pull-back: the member\'s own rows from the team server into the local store', () => {
  let team: Team | undefined;
  let teamDir: string;
  let admin: IssuedMember;
  let ca: string;
  let sqlBase: string;
  const local = serversPerSuite();

  const adminSql = (q: string) => teamSql(sqlBase, ca, 'admin', admin.secret, q);
  const teamCount = async (where: string, table = 'otel_logs') => Number((await adminSql(`SELECT count() AS n FROM ${table} WHERE ${where}`))[0]!.n);
  const localCount = async (s: RunningServer, where: string, table = 'otel_logs') => Number((await s.sql(`SELECT count() FROM ${table} WHERE ${where}`)).trim());

  const pull = (s: RunningServer): Promise<PullBackResult> => requestPullBack(s.host, s.httpPort, s.credentials);

  /** Claude Code-shaped events of one session: numbered (event.sequence), with prompt text. */
  async function exportEvents(s: RunningServer, session: string, n: number, from = 0): Promise<void> {
    const events = Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return { name: 'user_prompt', attributes: { 'session.id': session, 'prompt.id': `p${i}`, 'event.sequence': i, 'event.timestamp': new Date().toISOString(), prompt: `secret prompt text ${i}`, prompt_length: 19, chapter: 'ch02' } };
    });
    const r = await postOtlp(s.otlpHttpUrl, 'logs', encodeLogs(logsRequest(events, { 'service.name': 'claude-code', user_id: 'local-author' })), 'application/x-protobuf');
    assert.equal(r.status, 200);
  }

  async function exportCost(s: RunningServer, session: string, usd: number): Promise<void> {
    const point = { timeUnixNano: nowNanos(), startTimeUnixNano: nowNanos(-1000), attributes: [{ key: 'session.id', value: { stringValue: session } }, { key: 'model', value: { stringValue: 'claude-sonnet-4-5' } }], asDouble: usd };
    const metrics = { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeMetrics: [{ scope: { name: 'com.anthropic.claude_code', version: '2.1.197' }, metrics: [
      { name: 'claude_code.cost.usage', unit: 'USD', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point] } },
    ] }] }] };
    assert.equal((await postOtlp(s.otlpHttpUrl, 'metrics', encodeMetrics(metrics), 'application/x-protobuf')).status, 200);
  }

  before(async () => {
    team = await startTeam({
      name: 'Pull Team', ports: PORTS, tmpPrefix: 'ct-pullback-', members: [],
      limits: { requestsPerSecond: 500, requestBurst: 1000, bytesPerSecond: 256 * 1024 * 1024, byteBurst: 512 * 1024 * 1024 },
    });
    ({ dir: teamDir, ca, sqlUrl: sqlBase } = team);
    admin = team.members.admin!;
  });

  after(async () => {
    await team?.close();
  });

  test('rows from the member\'s other machine come back once; local rows are not duplicated; a second pull adds 0; nothing pulled goes back up', async () => {
    const pia = await addMember(teamDir, 'pia', 'contributor');
    const laptop = await local();
    const desktop = await local();
    // The laptop forwards its own 3 events and a cost point; the desktop (same member) sends 4 events and a cost point.
    await exportEvents(laptop, 'pb-laptop', 3);
    await exportCost(laptop, 'pb-laptop', 0.25);
    writeForwardConfig(laptop.dataDir, forwardConfig(pia));
    await forwardSettled(laptop);
    await exportEvents(desktop, 'pb-desktop', 4);
    await exportCost(desktop, 'pb-desktop', 0.5);
    writeForwardConfig(desktop.dataDir, forwardConfig(pia));
    await forwardSettled(desktop);
    assert.equal(await teamCount("ResourceAttributes['user_id'] = 'pia'"), 7);
    // Revert to Local on the laptop: forwarding paused first (the credential stays in forward.json), then pull-back.
    writeForwardConfig(laptop.dataDir, forwardConfig(pia, { enabled: false }));
    await eventually(async () => (await forwardStatus(laptop)).state === 'paused', () => 'not paused');
    const r = await pull(laptop);
    const logs = r.tables.find((t) => t.table === 'otel_logs')!;
    const sums = r.tables.find((t) => t.table === 'otel_metrics_sum')!;
    assert.deepEqual({ team_rows: logs.team_rows, team_records: logs.team_records, pulled: logs.pulled, already: logs.already }, { team_rows: 7, team_records: 7, pulled: 4, already: 3 });
    assert.deepEqual({ team_rows: sums.team_rows, pulled: sums.pulled, already: sums.already }, { team_rows: 2, pulled: 1, already: 1 });
    assert.equal(r.pulled + r.already, r.team_records);
    assert.equal(r.member, 'pia');
    // The local store: the desktop's rows once, the laptop's still once, and the views filled from the pulled rows.
    assert.equal(await localCount(laptop, "LogAttributes['session.id'] = 'pb-desktop'"), 4);
    assert.equal(await localCount(laptop, "LogAttributes['session.id'] = 'pb-laptop'"), 3);
    assert.equal(await localCount(laptop, "session_id = 'pb-desktop'", 'telemetry_events'), 4);
    assert.equal(Number((await laptop.sql("SELECT sum(Value) FROM otel_metrics_sum WHERE MetricName = 'claude_code.cost.usage'")).trim()), 0.75);
    assert.equal(Number((await laptop.sql("SELECT uniqExact(LogAttributes['session.id'], LogAttributes['event.sequence']) FROM otel_logs")).trim()), 7);
    // Again: nothing new.
    const again = await pull(laptop);
    assert.equal(again.pulled, 0);
    assert.equal(again.already, again.team_records);
    assert.equal(await localCount(laptop, '1'), 7);
    // Forwarding on again, even from the start (a new history choice): the pulled rows are delivered, never sent.
    writeForwardConfig(laptop.dataDir, forwardConfig(pia, { history: '2000-01-01' }));
    const st = await forwardSettled(laptop);
    assert.equal(st.delivered_rows, st.local_rows);
    assert.equal(st.history!.total_rows, 4, 'the history is the laptop\'s own 3 events and cost point, not the pulled rows');
    await exportEvents(laptop, 'pb-laptop', 1, 3);
    await eventually(async () => (await teamCount("LogAttributes['session.id'] = 'pb-laptop'")) === 4, async () => JSON.stringify(await forwardStatus(laptop)));
    await forwardSettled(laptop);
    assert.equal(await teamCount("ResourceAttributes['user_id'] = 'pia'"), 8);
    assert.equal(await teamCount("ResourceAttributes['user_id'] = 'pia'", 'otel_metrics_sum'), 2);
  });

  test('privacy-trimmed copies at the team (no-content, aggregates-only) are recognised: no near-duplicates of the full local rows', async () => {
    for (const [name, privacy] of [['quin', 'no-content'], ['rosa', 'aggregates-only']] as const) {
      const m = await addMember(teamDir, name, 'contributor');
      const s = await local();
      await exportEvents(s, `pb-${name}`, 5);
      await exportCost(s, `pb-${name}`, 0.125);
      writeForwardConfig(s.dataDir, forwardConfig(m, { privacy }));
      await forwardSettled(s);
      const atTeam = await adminSql(`SELECT LogAttributes['prompt'] AS p FROM otel_logs WHERE ResourceAttributes['user_id'] = '${name}'`);
      assert.equal(atTeam.length, 5);
      assert.ok(atTeam.every((row) => row.p === ''), `${privacy}: the team holds trimmed copies`);
      const r = await pull(s);
      assert.equal(r.pulled, 0, `${privacy}: ${JSON.stringify(r)}`);
      assert.equal(r.already, 6);
      assert.equal(await localCount(s, `LogAttributes['session.id'] = 'pb-${name}'`), 5);
      assert.equal(await localCount(s, `LogAttributes['session.id'] = 'pb-${name}' AND LogAttributes['prompt'] != ''`), 5, 'the full local rows stay as they were');
    }
  });

  test('refusals: only the writer may pull back; without forward.json there is no credential; a revoked credential fails and adds nothing', async () => {
    const s = await local();
    const anon = await fetch(`${s.httpUrl}/forward/pull-back`, { method: 'POST' });
    assert.equal(anon.status, 401);
    await anon.text();
    const get = await fetch(`${s.httpUrl}/forward/pull-back`);
    assert.equal(get.status, 405);
    await get.text();
    await assert.rejects(pull(s), (e: Error) => /no forward\.json/.test(e.message) && /409/.test(e.message));
    const sam = await addMember(teamDir, 'sam', 'contributor');
    writeForwardConfig(s.dataDir, forwardConfig(sam, { enabled: false, secret: `${sam.secret}x` }));
    await assert.rejects(pull(s), (e: Error) => /401/.test(e.message));
    assert.equal(await localCount(s, '1'), 0);
  });
});
