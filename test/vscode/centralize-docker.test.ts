// Centralize Telemetry in docker mode, in a real VS Code with a real Docker Engine (stand-in images): the mocha suite
// test/vscode/suite/centralize-docker.suite.ts runs the argument form inside the extension host against a team server
// in a network namespace over TLS; this file then checks the team server's table (the record arrived under the
// member's name) and that the secret is in no container's environment or command.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { docker, nofileHere, purge, STANDIN_CLICKHOUSE, STANDIN_COLLECTOR, uniqueProject } from '../docker/helpers';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { freePort } from '../support/ports';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'ct-central-docker-'));
const dir = join(root, 'io');
const project = uniqueProject('vscfwd');
let host: NetnsHost;
let team: TeamServerProcess;
let admin: IssuedMember;
let carol: IssuedMember;

before(async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(join(root, 'ws'), { recursive: true });
  mkdirSync(dir, { mode: 0o700 });
  host = createNetnsHost();
  const teamDir = join(root, 'team');
  admin = (await initTeam({ dir: teamDir, name: 'Docker Args Team', hostnames: [host.nsAddress], ports: { grpc: 28317, otlpHttp: 28318, http: 28123 } })).admin;
  carol = await addMember(teamDir, 'carol', 'contributor');
  writeFileSync(join(dir, 'carol.bundle'), carol.bundle, { mode: 0o600 });
  team = await startTeamServer(host, teamDir, join(root, 'team-data'));
});
after(async () => {
  await purge(project);
  await team?.stop();
  host?.destroy();
  rmSync(root, { recursive: true, force: true });
});

test('docker mode: Centralize by argument makes the collector forward to the team server; Revert to Local turns it off', async () => {
  const picked = new Set<number>();
  while (picked.size < 4) picked.add(await freePort());
  const [grpc, otlpHttp, http, metrics] = [...picked] as [number, number, number, number];
  const vs = await launchVSCode({
    workspace: join(root, 'ws'), extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'centralize-docker',
    settings: {
      'chapterTelemetry.mode': 'docker',
      'chapterTelemetry.grpcPort': grpc, 'chapterTelemetry.otlpHttpPort': otlpHttp, 'chapterTelemetry.httpPort': http,
      'chapterTelemetry.userId': 'docker-author',
      'chapterTelemetry.docker.clickhouseImage': STANDIN_CLICKHOUSE,
      'chapterTelemetry.docker.collectorImage': STANDIN_COLLECTOR,
      'chapterTelemetry.docker.projectName': project,
    },
    env: { CT_SUITE_GREP: 'centralize in docker mode', CT_CENTRAL_DOCKER_DIR: dir, CLICKHOUSE_NOFILE: nofileHere(), OTELCOL_NOFILE: nofileHere(), OTELCOL_METRICS_PORT: String(metrics) },
  });
  const secretSeen: string[] = [];
  try {
    const r = await vs.runTests(600_000);
    mkdirSync(join(repoRoot, '.test-artifacts', 'vscode'), { recursive: true });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'centralize-docker-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /3 passing/);
    for (const c of await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } })) {
      const info = await docker.getContainer(c.Id).inspect();
      if (JSON.stringify([info.Config.Env, info.Config.Cmd, info.Config.Labels, info.Args]).includes(carol.secret)) secretSeen.push(c.Names[0] ?? c.Id);
    }
  } finally {
    await vs.close();
  }
  assert.deepEqual(secretSeen, [], 'no container carries the secret in env, command or labels');
  const rows = await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret,
    "SELECT ResourceAttributes['user_id'] AS u, count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'docker-central-after' GROUP BY u");
  assert.deepEqual(rows.map((x) => [x.u, Number(x.n)]), [['carol', 1]]);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { status: { delivered_rows: number } };
  assert.ok(results.status.delivered_rows >= 1, JSON.stringify(results));
});
