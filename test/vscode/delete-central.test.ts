// Delete My Data's team branch in a real VS Code (code-server), against the real team server in its own
// network namespace over TLS: dana connects with Centralize Telemetry (argument form, bundle from a 0600
// file), then Delete My Data with `{confirmed: true, where: 'team'}` (test/vscode/suite/team-delete.suite.ts).
// On the team server, checked with the admin's SQL: every table holds 0 rows of dana, eli's rows are
// exactly as before, and the deletion log names dana and the row counts the command showed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedMember } from '../../src/server/team/admin';
import { planDeletion } from '../../src/core/data/delete-plan';
import type { DeletionLogEntry } from '../../src/core/data/team-deletion';
import { encodeLogs, logsRequest, type EventSpec } from '../support/otlp';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { send } from '../support/team-server';
import { expectSuitePasses, launchSuite } from '../support/vscode-suite';
import { startTeamForSuite, type SuiteTeam } from '../support/vscode-team';

let team: SuiteTeam;

async function rowsOf(member: string): Promise<Record<string, number>> {
  const r: Record<string, number> = {};
  for (const c of planDeletion(member).counts) r[c.id] = Number((await team.adminSql(c.countSql.replace(/\{user:String\}/g, `'${member}'`)))[0]!.rows);
  return r;
}

async function sendLogs(who: IssuedMember, session: string): Promise<void> {
  const events: EventSpec[] = [
    { name: 'user_prompt', attributes: { 'session.id': session, 'event.sequence': 1, prompt: 'secret text', chapter: 'ch01' } },
    { name: 'api_request', attributes: { 'session.id': session, 'event.sequence': 2, chapter: 'ch01', model: 'claude-sonnet-4-5', cost_usd: 0.5, input_tokens: 10, output_tokens: 5 } },
    { name: 'api_error', attributes: { 'session.id': session, 'event.sequence': 3, chapter: 'ch01', model: 'claude-sonnet-4-5', status_code: 529, error: 'overloaded' } },
  ];
  const r = await send(`${who.otlp_http}/v1/logs`, { body: encodeLogs(logsRequest(events, { 'service.name': 'claude-code' })), ca: team.ca, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${who.secret}` } });
  assert.equal(r.status, 200, r.body);
}

before(async () => {
  // dana's bundle reaches the suite through an owner-only file (io/dana.bundle), not the environment.
  team = await startTeamForSuite({
    name: 'Delete Press', ports: { grpc: 28317, otlpHttp: 28318, http: 28123 }, tmpPrefix: 'ct-delete-central-',
    members: [['dana', 'contributor'], ['eli', 'contributor']], bundles: ['dana'],
  });
  writeFileSync(join(team.workspace, 'README.md'), '# a book\n');
  await sendLogs(team.members.dana!, 'dc-dana');
  await sendLogs(team.members.eli!, 'dc-eli');
});

after(async () => {
  await team?.close();
});

test('Delete My Data → the team server: dana\'s rows gone from every table, eli\'s untouched, logged', async () => {
  const danaBefore = await rowsOf('dana');
  assert.ok(danaBefore.events! > 0 && danaBefore.daily! > 0 && danaBefore.daily_errors! > 0, JSON.stringify(danaBefore));
  const eliBefore = await rowsOf('eli');
  const vs = await launchSuite({
    name: 'delete-central', grep: 'team delete', workspace: team.workspace,
    settings: {
      'chapterTelemetry.userId': 'dana',
      ...localStackSettings(await freeStackPorts(), team.localData),
    },
    env: { CT_TEAM_DELETE_OUT: team.io },
  });
  try {
    await expectSuitePasses(vs, 'delete-central', 2);
  } finally {
    await vs.close();
  }
  const results = JSON.parse(readFileSync(join(team.io, 'results.json'), 'utf8')) as { delete: { team: { before: { id: string; rows: number }[] } } };
  assert.ok(Object.values(await rowsOf('dana')).every((n) => n === 0), JSON.stringify(await rowsOf('dana')));
  assert.deepEqual(await rowsOf('eli'), eliBefore);
  // What the command showed is what the team server logged (the connection test record included).
  const shown = Object.fromEntries(results.delete.team.before.map((t) => [t.id, t.rows]));
  for (const [id, n] of Object.entries(danaBefore)) assert.ok(shown[id]! >= n, `${id}: shown ${shown[id]}, SQL had ${n} before`);
  const log = readFileSync(join(team.dir, 'deletions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DeletionLogEntry);
  assert.deepEqual(log.map((e) => [e.member, e.by]), [['dana', 'dana (contributor)']], 'one deletion (the second call found nothing and deleted nothing)');
  assert.deepEqual(log[0]!.rows, shown);
});
