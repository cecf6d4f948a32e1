// Delete My Data's team branch in a real VS Code (code-server), against the real team server in its own
// network namespace over TLS: dana connects with Centralize Telemetry (argument form, bundle from a 0600
// file), then Delete My Data with `{confirmed: true, where: 'team'}` (test/vscode/suite/team-delete.suite.ts).
// On the team server, checked with the admin's SQL: every table holds 0 rows of dana, eli's rows are
// exactly as before, and the deletion log names dana and the row counts the command showed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { planDeletion } from '../../src/core/data/delete-plan';
import type { DeletionLogEntry } from '../../src/core/data/team-deletion';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest, type EventSpec } from '../support/otlp';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { send, startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const PORTS = { grpc: 28317, otlpHttp: 28318, http: 28123 };
const root = mkdtempSync(join(tmpdir(), 'ct-delete-central-'));
const workspace = join(root, 'book');
const out = join(root, 'out');
let host: NetnsHost;
let team: TeamServerProcess | undefined;
let admin: IssuedMember;
const m: Record<string, IssuedMember> = {};

const adminSql = (q: string) => teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, q);

async function rowsOf(member: string): Promise<Record<string, number>> {
  const r: Record<string, number> = {};
  for (const c of planDeletion(member).counts) r[c.id] = Number((await adminSql(c.countSql.replace(/\{user:String\}/g, `'${member}'`)))[0]!.rows);
  return r;
}

async function sendLogs(who: IssuedMember, session: string): Promise<void> {
  const events: EventSpec[] = [
    { name: 'user_prompt', attributes: { 'session.id': session, 'event.sequence': 1, prompt: 'secret text', chapter: 'ch01' } },
    { name: 'api_request', attributes: { 'session.id': session, 'event.sequence': 2, chapter: 'ch01', model: 'claude-sonnet-4-5', cost_usd: 0.5, input_tokens: 10, output_tokens: 5 } },
    { name: 'api_error', attributes: { 'session.id': session, 'event.sequence': 3, chapter: 'ch01', model: 'claude-sonnet-4-5', status_code: 529, error: 'overloaded' } },
  ];
  const r = await send(`${who.otlp_http}/v1/logs`, { body: encodeLogs(logsRequest(events, { 'service.name': 'claude-code' })), ca: admin.ca_pem, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${who.secret}` } });
  assert.equal(r.status, 200, r.body);
}

before(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(workspace, { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(workspace, 'README.md'), '# a book\n');
  host = createNetnsHost();
  const teamDir = join(root, 'team');
  admin = (await initTeam({ dir: teamDir, name: 'Delete Press', hostnames: [host.nsAddress], ports: PORTS })).admin;
  for (const name of ['dana', 'eli']) m[name] = await addMember(teamDir, name, 'contributor');
  team = await startTeamServer(host, teamDir, join(root, 'team-data'));
  await sendLogs(m.dana!, 'dc-dana');
  await sendLogs(m.eli!, 'dc-eli');
  // The bundle reaches the suite through an owner-only file, not the environment.
  writeFileSync(join(out, 'bundle.txt'), m.dana!.bundle, { mode: 0o600 });
});

after(async () => {
  await team?.stop();
  host?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('Delete My Data → the team server: dana\'s rows gone from every table, eli\'s untouched, logged', async () => {
  const danaBefore = await rowsOf('dana');
  assert.ok(danaBefore.events! > 0 && danaBefore.daily! > 0 && danaBefore.daily_errors! > 0, JSON.stringify(danaBefore));
  const eliBefore = await rowsOf('eli');
  const vs = await launchVSCode({
    workspace, extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'delete-central',
    settings: {
      'chapterTelemetry.userId': 'dana',
      ...localStackSettings(await freeStackPorts(), join(root, 'data')),
    },
    env: { CT_SUITE_GREP: 'team delete', CT_TEAM_DELETE_OUT: out },
  });
  try {
    const r = await vs.runTests(600_000);
    mkdirSync(join(repoRoot, '.test-artifacts', 'vscode'), { recursive: true });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'delete-central-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /2 passing/);
  } finally {
    await vs.close();
  }
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { delete: { team: { before: { id: string; rows: number }[] } } };
  assert.ok(Object.values(await rowsOf('dana')).every((n) => n === 0), JSON.stringify(await rowsOf('dana')));
  assert.deepEqual(await rowsOf('eli'), eliBefore);
  // What the command showed is what the team server logged (the connection test record included).
  const shown = Object.fromEntries(results.delete.team.before.map((t) => [t.id, t.rows]));
  for (const [id, n] of Object.entries(danaBefore)) assert.ok(shown[id]! >= n, `${id}: shown ${shown[id]}, SQL had ${n} before`);
  const log = readFileSync(join(root, 'team', 'deletions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DeletionLogEntry);
  assert.deepEqual(log.map((e) => [e.member, e.by]), [['dana', 'dana (contributor)']], 'one deletion (the second call found nothing and deleted nothing)');
  assert.deepEqual(log[0]!.rows, shown);
});
