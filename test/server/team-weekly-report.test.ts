/**
 * `npm run report -- --team-bundle-file F` (dist/report-cli.js) against a real team server (TLS, its own network
 * namespace): carol (coordinator) gets her own rows as the report's body — every number equal to the admin's SQL
 * over carol's raw events — and the team section (cost by member, error patterns, chapter complexity across
 * contributors), equal to the admin's SQL over everyone's RAW events while the section reads aggregates only.
 * bob (contributor) gets his own rows and no team section. A bundle file others can read is refused; the secret
 * never appears on the command line or in the output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest, type EventSpec } from '../support/otlp';
import { checkReport, tables } from '../support/report-check';
import { repoRoot, runNodeScript, type RunningServer } from '../support/server';
import { send, startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const PORTS = { grpc: 26417, otlpHttp: 26418, http: 29323 };
const W48 = { from: '2026-11-23', to: '2026-11-30' };
const W47 = { from: '2026-11-16', to: '2026-11-23' };
const cli = join(repoRoot, 'dist', 'report-cli.js');

describe('weekly report from the team server (--team-bundle-file)', () => {
  let root: string;
  let host: NetnsHost;
  let server: TeamServerProcess | undefined;
  let admin: IssuedMember;
  const members: Record<string, IssuedMember> = {};
  const bundleFile: Record<string, string> = {};

  /** The admin's SQL over the team server, as TSV with `{x:Type}` parameters: what checkReport expects of a server. */
  const adminSql = async (query: string, params: Record<string, string> = {}): Promise<string> => {
    const u = new URL(admin.query_url);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, v);
    const r = await send(u.toString(), { body: query, ca: admin.ca_pem, headers: { Authorization: `Basic ${Buffer.from(`admin:${admin.secret}`).toString('base64')}` } });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
    return r.body;
  };
  const truth = async <R>(query: string): Promise<R[]> => (await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, `${query} FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0`)) as R[];

  const at = (day: string, hour: number) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);
  const ev = (name: string, ms: number, attributes: Record<string, string | number>): EventSpec =>
    ({ name, timeNanos: (BigInt(ms) * 1_000_000n).toString(), attributes: { 'event.timestamp': new Date(ms).toISOString(), ...attributes } });
  const req = (ms: number, session: string, chapter: string, model: string, cost: number, input: number) =>
    ev('api_request', ms, { 'session.id': session, chapter, model, cost_usd: cost, input_tokens: input, output_tokens: 10, cache_read_tokens: 5, cache_creation_tokens: 2 });
  const apiError = (ms: number, session: string, chapter: string, status: number) =>
    ev('api_error', ms, { 'session.id': session, chapter, model: 'claude-sonnet-4-5', status_code: status, error: 'SECRET-ERROR-TEXT' });
  const sendLogs = async (who: string, events: EventSpec[]) => {
    const r = await send(`${members[who]!.otlp_http.replace(/\/$/, '')}/v1/logs`, {
      body: encodeLogs(logsRequest(events, { 'service.name': 'claude-code' })), ca: admin.ca_pem,
      headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${members[who]!.secret}` },
    });
    assert.equal(r.status, 200, r.body);
  };
  const report = (who: string, format = 'md') => runNodeScript(cli, ['--team-bundle-file', bundleFile[who]!, '--week', '2026-W48', '--format', format, '--out', join(root, `out-${who}`)]);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-team-report-'));
    const dir = join(root, 'team');
    host = createNetnsHost();
    admin = (await initTeam({ dir, name: 'Press', hostnames: [host.nsAddress], ports: PORTS })).admin;
    members.bob = await addMember(dir, 'bob', 'contributor');
    members.carol = await addMember(dir, 'carol', 'coordinator');
    for (const who of ['bob', 'carol']) {
      bundleFile[who] = join(root, `${who}.bundle`);
      writeFileSync(bundleFile[who], `${members[who]!.bundle}\n`, { mode: 0o600 });
    }
    server = await startTeamServer(host, dir, join(root, 'data'));
    await sendLogs('carol', [
      req(at('2026-11-24', 9), 'c1', 'ch01', 'claude-sonnet-4-5', 0.5, 100), req(at('2026-11-24', 10), 'c1', 'ch02', 'claude-opus-4-1', 1.25, 400),
      req(at('2026-11-26', 9), 'c2', 'ch03', 'claude-haiku-4-5', 0.05, 30), apiError(at('2026-11-26', 10), 'c2', 'ch02', 429), apiError(at('2026-11-26', 11), 'c2', 'ch02', 529),
      req(at('2026-11-18', 9), 'c0', 'ch01', 'claude-sonnet-4-5', 0.3, 60),
    ]);
    await sendLogs('bob', [
      req(at('2026-11-25', 9), 'b1', 'ch01', 'claude-sonnet-4-5', 2, 900), req(at('2026-11-27', 9), 'b2', 'ch03', 'claude-opus-4-1', 0.75, 200),
      apiError(at('2026-11-27', 10), 'b2', 'ch03', 529), req(at('2026-11-17', 9), 'b0', 'ch02', 'claude-sonnet-4-5', 0.2, 50),
    ]);
  });
  after(async () => {
    await server?.stop();
    host?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('carol (coordinator): her own rows equal SQL over her raw events; the team section equals SQL over everyone\'s', async () => {
    const r = await report('carol');
    assert.equal(r.code, 0, r.stderr);
    const md = readFileSync(join(root, 'out-carol', '2026-W48.md'), 'utf8');
    assert.match(md, /· carol · from the team server of Press ·/);
    await checkReport({ sql: adminSql } as unknown as RunningServer, md, { all: '0', user: 'carol' }, W48, W47, { previousWeekRequests: true, models: 3, minChapters: 3 });
    const t = tables(md);
    const IN = `timestamp >= toDateTime64('${W48.from}', 3, 'UTC') AND timestamp < toDateTime64('${W48.to}', 3, 'UTC')`;
    const byMember = await truth<{ member: string; cost: number; requests: number; errors: number; tokens: number; chapters: number }>(`SELECT user_id AS member,
      toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost, toFloat64(countIf(event_type = 'api_request')) AS requests,
      toFloat64(countIf(event_type = 'api_error')) AS errors, toFloat64(sumIf(token_count, event_type = 'api_request')) AS tokens,
      toFloat64(uniqExactIf(chapter_context, event_type = 'api_request' AND chapter_context != '')) AS chapters
      FROM telemetry_events WHERE ${IN} AND event_type IN ('api_request', 'api_error') GROUP BY member ORDER BY cost DESC, member`);
    assert.deepEqual(byMember.map((m) => m.member), ['bob', 'carol']);
    assert.deepEqual(t.get('Team Press: cost by member'), byMember.map((m) => [m.member, m.cost.toFixed(4), String(m.requests), String(m.errors), String(m.tokens), String(m.chapters)]));
    const patterns = await truth<{ error_type: string; status_code: string; errors: number; members: number; chapters: number; last_seen: string }>(`SELECT error_type,
      toString(status_code) AS status_code, toFloat64(count()) AS errors, toFloat64(uniqExact(user_id)) AS members,
      toFloat64(uniqExactIf(chapter_context, chapter_context != '')) AS chapters, toString(max(toDate(timestamp))) AS last_seen
      FROM telemetry_events WHERE ${IN} AND event_type = 'api_error' GROUP BY error_type, status_code ORDER BY errors DESC, error_type, status_code`);
    assert.equal(patterns.length, 2, JSON.stringify(patterns));
    assert.deepEqual(t.get('Team Press: error patterns'), patterns.map((p) => [`API ${p.error_type} (${p.status_code})`, String(p.errors), String(p.members), String(p.chapters), p.last_seen]));
    const chapters = await truth<{ chapter: string; tokens: number; requests: number; contributors: number; cost: number }>(`SELECT chapter_context AS chapter,
      toFloat64(sum(token_count)) AS tokens, toFloat64(count()) AS requests, toFloat64(uniqExact(user_id)) AS contributors, toFloat64(sum(cost_usd)) AS cost
      FROM telemetry_events WHERE ${IN} AND event_type = 'api_request' GROUP BY chapter ORDER BY tokens DESC, chapter`);
    assert.deepEqual(chapters.find((c) => c.chapter === 'ch01')?.contributors, 2);
    assert.deepEqual(t.get('Team Press: chapter complexity across contributors'),
      chapters.map((c) => [c.chapter, String(c.tokens), String(c.requests), String(Math.round(c.tokens / c.requests)), String(c.contributors), c.cost.toFixed(4)]));
    assert.doesNotMatch(md, /SECRET-ERROR-TEXT/);
    assert.ok(!md.includes(members.carol!.secret), 'no secret in the report');
    const html = await report('carol', 'html');
    assert.equal(html.code, 0, html.stderr);
    assert.match(readFileSync(join(root, 'out-carol', '2026-W48.html'), 'utf8'), /<h2>Team Press: cost by member<\/h2>\n<svg[^>]*aria-label="Cost by member \(USD\)"/);
  });

  test('bob (contributor): his own rows from the team server, no team section', async () => {
    const r = await report('bob');
    assert.equal(r.code, 0, r.stderr);
    const md = readFileSync(join(root, 'out-bob', '2026-W48.md'), 'utf8');
    const t = tables(md);
    const [own] = await truth<{ cost: number; requests: number; errors: number }>(`SELECT toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost,
      toFloat64(countIf(event_type = 'api_request')) AS requests, toFloat64(countIf(event_type = 'api_error')) AS errors FROM telemetry_events
      WHERE user_id = 'bob' AND timestamp >= toDateTime64('${W48.from}', 3, 'UTC') AND timestamp < toDateTime64('${W48.to}', 3, 'UTC')`);
    const totals = new Map(t.get('Totals')!.map((row) => [row[0], row[1]]));
    assert.deepEqual([totals.get('Cost (USD)'), totals.get('Requests'), totals.get('Errors')], [own!.cost.toFixed(4), String(own!.requests), String(own!.errors)]);
    assert.equal(own!.cost, 2.75);
    assert.doesNotMatch(md, /## Team/);
  });

  test('a bundle file others can read is refused; other flags are refused with it; the secret is in no argv or output', async () => {
    chmodSync(bundleFile.bob!, 0o644);
    const r = await report('bob');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /can be read by others \(mode 644\).*chmod 600/);
    chmodSync(bundleFile.bob!, 0o600);
    const mixed = await runNodeScript(cli, ['--team-bundle-file', bundleFile.bob!, '--all', '--format', 'md', '--out', root]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /no --url, --user, --all or --workspace with it/);
    for (const out of [r, mixed]) assert.ok(!`${out.stdout}${out.stderr}`.includes(members.bob!.secret));
  });
});
