// Budgets in central mode in a real VS Code: the mocha suite test/vscode/suite/budget-central.suite.ts runs inside the
// extension host; bob (contributor) centralizes against the real team server in a network namespace over TLS, and his
// "other machine" sends spend straight to the team server with his secret. This file runs the team server, hands
// the suite bob's bundle and sender, stops the team server when the suite asks (the fallback step), and then checks
// that the figures the suite saw equal SQL on the team server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'ct-budget-central-'));
const dir = join(root, 'io');
let host: NetnsHost;
let team: TeamServerProcess;
let admin: IssuedMember;

/** Resolves when `file` exists in `dir` (a watcher, not a sleep). */
function fileAppears(file: string): { done: Promise<void>; close(): void } {
  let w: ReturnType<typeof watch> | undefined;
  const done = new Promise<void>((resolve) => {
    w = watch(dir, () => {
      if (existsSync(join(dir, file))) resolve();
    });
    if (existsSync(join(dir, file))) resolve();
  });
  return { done, close: () => w?.close() };
}

before(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(join(root, 'ws'), { recursive: true });
  mkdirSync(dir, { mode: 0o700 });
  host = createNetnsHost();
  const teamDir = join(root, 'team');
  admin = (await initTeam({ dir: teamDir, name: 'Budget Team', hostnames: [host.nsAddress], ports: { grpc: 27317, otlpHttp: 27318, http: 27123 } })).admin;
  const bob = await addMember(teamDir, 'bob', 'contributor');
  writeFileSync(join(dir, 'bob.bundle'), bob.bundle, { mode: 0o600 });
  writeFileSync(join(dir, 'carol.bundle'), (await addMember(teamDir, 'carol', 'coordinator')).bundle, { mode: 0o600 });
  // What bob's other machine knows: where to send, his secret, the team CA (0600, like the bundle).
  writeFileSync(join(dir, 'bob-sender.json'), JSON.stringify({ otlp_http: bob.otlp_http, secret: bob.secret, ca_pem: bob.ca_pem }), { mode: 0o600 });
  team = await startTeamServer(host, teamDir, join(root, 'team-data'));
});
after(async () => {
  await team?.stop();
  host?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('spend from another machine reaches the status bar through the team server; the local store stands in when it is down', async () => {
  const vs = await launchVSCode({
    workspace: join(root, 'ws'), extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'budget-central',
    settings: {
      ...localStackSettings(await freeStackPorts(), join(root, 'data')),
      'chapterTelemetry.userId': 'bob-desktop',
    },
    env: { CT_SUITE_GREP: 'central budget', CT_BUDGET_CENTRAL_DIR: dir },
  });
  const stopAsked = fileAppears('stop-team');
  let truth: number | undefined;
  try {
    const stopper = stopAsked.done.then(async () => {
      // Ground truth before the server goes: bob's spend today as the admin's SQL over the team server has it.
      const [row] = (await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret,
        "SELECT toFloat64(sum(cost_usd)) AS cost FROM telemetry_events WHERE event_type = 'api_request' AND user_id = 'bob' AND toDate(timestamp) = today() FORMAT JSONEachRow")) as { cost: number }[];
      truth = row?.cost;
      await team.stop();
      writeFileSync(join(dir, 'team-stopped'), '');
    });
    const r = await vs.runTests(600_000);
    mkdirSync(join(repoRoot, '.test-artifacts', 'vscode'), { recursive: true });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'budget-central-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /6 passing/);
    await stopper;
  } finally {
    stopAsked.close();
    await vs.close();
  }
  // The suite's last team figure was "$11.50 of $10.00 today": the same as SQL on the team server.
  assert.equal(truth, 11.5);
});
