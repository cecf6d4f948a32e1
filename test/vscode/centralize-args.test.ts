// Centralize Telemetry / Revert to Local by argument (scripts, keybindings) in a real VS Code: the mocha suite
// test/vscode/suite/centralize-args.suite.ts runs inside the extension host against a team server in a network
// namespace over TLS; this file then checks the team server's tables: what each member's privacy level let through,
// history 'none' kept older records local, history 'all' moved them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, rotateMember, type IssuedMember } from '../../src/server/team/admin';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'ct-central-args-'));
const dir = join(root, 'io');
let host: NetnsHost;
let team: TeamServerProcess;
let admin: IssuedMember;

before(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(join(root, 'ws'), { recursive: true });
  mkdirSync(dir, { mode: 0o700 });
  host = createNetnsHost();
  const teamDir = join(root, 'team');
  admin = (await initTeam({ dir: teamDir, name: 'Args Team', hostnames: [host.nsAddress], ports: { grpc: 27317, otlpHttp: 27318, http: 27123 } })).admin;
  const bob = await addMember(teamDir, 'bob', 'contributor');
  const carolOld = await addMember(teamDir, 'carol', 'contributor');
  await rotateMember(teamDir, 'carol');
  for (const [name, m] of [['admin', admin], ['bob', bob], ['carol-old', carolOld]] as const) writeFileSync(join(dir, `${name}.bundle`), m.bundle, { mode: 0o600 });
  team = await startTeamServer(host, teamDir, join(root, 'team-data'));
});
after(async () => {
  await team?.stop();
  host?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('the argument forms from the extension host, then the team server holds what each choice allowed', async () => {
  const vs = await launchVSCode({
    workspace: join(root, 'ws'), extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'centralize-args',
    settings: {
      ...localStackSettings(await freeStackPorts(), join(root, 'data')),
      'chapterTelemetry.userId': 'args-author',
    },
    env: { CT_SUITE_GREP: 'centralize arguments', CT_CENTRAL_ARGS_DIR: dir },
  });
  try {
    const r = await vs.runTests(600_000);
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'centralize-args-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /5 passing/);
  } finally {
    await vs.close();
  }
  const rows = async (session: string) => await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret,
    `SELECT ResourceAttributes['user_id'] AS u, toBool(mapContains(LogAttributes, 'prompt')) AS has_prompt FROM otel_logs WHERE LogAttributes['session.id'] = '${session}' ORDER BY u`);
  // history 'none' kept the older record local for bob; admin's 'all' moved it.
  assert.deepEqual(await rows('args-before'), [{ u: 'admin', has_prompt: true }]);
  // bob's aggregates-only dropped the prompt before it left; admin's 'all' kept it.
  assert.deepEqual(await rows('args-after'), [{ u: 'admin', has_prompt: true }, { u: 'bob', has_prompt: false }]);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { admin: { moved: number } };
  assert.ok(results.admin.moved >= 2, JSON.stringify(results));
});
