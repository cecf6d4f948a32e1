// Budgets in central mode in a real VS Code: the mocha suite test/vscode/suite/budget-central.suite.ts runs inside the
// extension host; bob (contributor) centralizes against the real team server in a network namespace over TLS, and his
// "other machine" sends spend straight to the team server with his secret. This file runs the team server, hands
// the suite bob's bundle and sender, stops the team server when the suite asks (the fallback step), and then checks
// that the figures the suite saw equal SQL on the team server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { expectSuitePasses, launchSuite } from '../support/vscode-suite';
import { startTeamForSuite, type SuiteTeam } from '../support/vscode-team';

let team: SuiteTeam;

/** Resolves when `file` exists in `dir` (a watcher, not a sleep). */
function fileAppears(dir: string, file: string): { done: Promise<void>; close(): void } {
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
  team = await startTeamForSuite({
    name: 'Budget Team', ports: { grpc: 27317, otlpHttp: 27318, http: 27123 }, tmpPrefix: 'ct-budget-central-',
    members: [['bob', 'contributor'], ['carol', 'coordinator']], bundles: ['bob', 'carol'],
  });
  const bob = team.members.bob!;
  // What bob's other machine knows: where to send, his secret, the team CA (0600, like the bundle).
  writeFileSync(join(team.io, 'bob-sender.json'), JSON.stringify({ otlp_http: bob.otlp_http, secret: bob.secret, ca_pem: bob.ca_pem }), { mode: 0o600 });
});
after(async () => {
  await team?.close();
});

test('spend from another machine reaches the status bar through the team server; the local store stands in when it is down', async () => {
  const vs = await launchSuite({
    name: 'budget-central', grep: 'central budget', workspace: team.workspace,
    settings: {
      ...localStackSettings(await freeStackPorts(), team.localData),
      'chapterTelemetry.userId': 'bob-desktop',
    },
    env: { CT_BUDGET_CENTRAL_DIR: team.io },
  });
  const stopAsked = fileAppears(team.io, 'stop-team');
  let truth: number | undefined;
  try {
    const stopper = stopAsked.done.then(async () => {
      // Ground truth before the server goes: bob's spend today as the admin's SQL over the team server has it.
      const [row] = (await team.adminSql(
        "SELECT toFloat64(sum(cost_usd)) AS cost FROM telemetry_events WHERE event_type = 'api_request' AND user_id = 'bob' AND toDate(timestamp) = today() FORMAT JSONEachRow")) as { cost: number }[];
      truth = row?.cost;
      await team.server.stop();
      writeFileSync(join(team.io, 'team-stopped'), '');
    });
    await expectSuitePasses(vs, 'budget-central', 6);
    await stopper;
  } finally {
    stopAsked.close();
    await vs.close();
  }
  // The suite's last team figure was "$11.50 of $10.00 today": the same as SQL on the team server.
  assert.equal(truth, 11.5);
});
