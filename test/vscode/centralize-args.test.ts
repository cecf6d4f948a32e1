// Centralize Telemetry / Revert to Local by argument (scripts, keybindings) in a real VS Code: the mocha suite
// test/vscode/suite/centralize-args.suite.ts runs inside the extension host against a team server in a network
// namespace over TLS; this file then checks the team server's tables: what each member's privacy level let through,
// history 'none' kept older records local, history 'all' moved them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rotateMember } from '../../src/server/team/admin';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { expectSuitePasses, launchSuite } from '../support/vscode-suite';
import { startTeamForSuite, type SuiteTeam } from '../support/vscode-team';

let team: SuiteTeam;

before(async () => {
  team = await startTeamForSuite({
    name: 'Args Team', ports: { grpc: 27317, otlpHttp: 27318, http: 27123 }, tmpPrefix: 'ct-central-args-',
    members: [['bob', 'contributor'], ['carol', 'contributor']], bundles: ['admin', 'bob'],
    prepare: async (dir) => void (await rotateMember(dir, 'carol')),
  });
  // members.carol is what addMember issued before the rotation: a stale secret the server must refuse.
  writeFileSync(join(team.io, 'carol-old.bundle'), team.members.carol!.bundle, { mode: 0o600 });
});
after(async () => {
  await team?.close();
});

test('the argument forms from the extension host, then the team server holds what each choice allowed', async () => {
  const vs = await launchSuite({
    name: 'centralize-args', grep: 'centralize arguments', workspace: team.workspace,
    settings: {
      ...localStackSettings(await freeStackPorts(), team.localData),
      'chapterTelemetry.userId': 'args-author',
    },
    env: { CT_CENTRAL_ARGS_DIR: team.io },
  });
  try {
    await expectSuitePasses(vs, 'centralize-args', 5);
  } finally {
    await vs.close();
  }
  const rows = async (session: string) => await team.adminSql(
    `SELECT ResourceAttributes['user_id'] AS u, toBool(mapContains(LogAttributes, 'prompt')) AS has_prompt FROM otel_logs WHERE LogAttributes['session.id'] = '${session}' ORDER BY u`);
  // history 'none' kept the older record local for bob; admin's 'all' moved it.
  assert.deepEqual(await rows('args-before'), [{ u: 'admin', has_prompt: true }]);
  // bob's aggregates-only dropped the prompt before it left; admin's 'all' kept it.
  assert.deepEqual(await rows('args-after'), [{ u: 'admin', has_prompt: true }, { u: 'bob', has_prompt: false }]);
  const results = JSON.parse(readFileSync(join(team.io, 'results.json'), 'utf8')) as { admin: { moved: number } };
  assert.ok(results.admin.moved >= 2, JSON.stringify(results));
});
