// Centralize Telemetry in docker mode, in a real VS Code with a real Docker Engine (stand-in images): the mocha suite
// test/vscode/suite/centralize-docker.suite.ts runs the argument form inside the extension host against a team server
// in a network namespace over TLS; this file then checks the team server's table (the record arrived under the
// member's name) and that the secret is in no container's environment or command.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, nofileHere, purge, STANDIN_CLICKHOUSE, STANDIN_COLLECTOR, uniqueProject } from '../docker/helpers';
import { freePort } from '../support/ports';
import { expectSuitePasses, launchSuite } from '../support/vscode-suite';
import { startTeamForSuite, type SuiteTeam } from '../support/vscode-team';

const project = uniqueProject('vscfwd');
let team: SuiteTeam;

before(async () => {
  team = await startTeamForSuite({
    name: 'Docker Args Team', ports: { grpc: 28317, otlpHttp: 28318, http: 28123 }, tmpPrefix: 'ct-central-docker-',
    members: [['carol', 'contributor']], bundles: ['carol'],
  });
});
after(async () => {
  await purge(project);
  await team?.close();
});

test('docker mode: Centralize by argument makes the collector forward to the team server; Revert to Local turns it off', async () => {
  const picked = new Set<number>();
  while (picked.size < 4) picked.add(await freePort());
  const [grpc, otlpHttp, http, metrics] = [...picked] as [number, number, number, number];
  const carol = team.members.carol!;
  const vs = await launchSuite({
    name: 'centralize-docker', grep: 'centralize in docker mode', workspace: team.workspace,
    settings: {
      'chapterTelemetry.mode': 'docker',
      'chapterTelemetry.grpcPort': grpc, 'chapterTelemetry.otlpHttpPort': otlpHttp, 'chapterTelemetry.httpPort': http,
      'chapterTelemetry.userId': 'docker-author',
      'chapterTelemetry.docker.clickhouseImage': STANDIN_CLICKHOUSE,
      'chapterTelemetry.docker.collectorImage': STANDIN_COLLECTOR,
      'chapterTelemetry.docker.projectName': project,
    },
    env: { CT_CENTRAL_DOCKER_DIR: team.io, CLICKHOUSE_NOFILE: nofileHere(), OTELCOL_NOFILE: nofileHere(), OTELCOL_METRICS_PORT: String(metrics) },
  });
  const secretSeen: string[] = [];
  try {
    await expectSuitePasses(vs, 'centralize-docker', 3);
    for (const c of await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } })) {
      const info = await docker.getContainer(c.Id).inspect();
      if (JSON.stringify([info.Config.Env, info.Config.Cmd, info.Config.Labels, info.Args]).includes(carol.secret)) secretSeen.push(c.Names[0] ?? c.Id);
    }
  } finally {
    await vs.close();
  }
  assert.deepEqual(secretSeen, [], 'no container carries the secret in env, command or labels');
  const rows = await team.adminSql(
    "SELECT ResourceAttributes['user_id'] AS u, count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'docker-central-after' GROUP BY u");
  assert.deepEqual(rows.map((x) => [x.u, Number(x.n)]), [['carol', 1]]);
  const results = JSON.parse(readFileSync(join(team.io, 'results.json'), 'utf8')) as { status: { delivered_rows: number } };
  assert.ok(results.status.delivered_rows >= 1, JSON.stringify(results));
});
