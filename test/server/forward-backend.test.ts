// The stack interface's forwarding calls (issue 10's contract for the extension): the embedded
// backend writes forward.json 0600 into the running server's data directory and reads
// GET /forward/status from it; docker mode refuses clearly. The team server is unreachable here on
// purpose: the status must say "failing" and why, and removing the file must turn forwarding off.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../src/stack/embedded';
import { DockerBackend } from '../../src/stack/docker/backend';
import { StackError } from '../../src/stack/types';
import type { ForwardConfig, ForwardStatus } from '../../src/core/forward-config';
import { freePort } from '../support/ports';
import { serverScript } from '../support/server';
import { encodeLogs, eventually, logsRequest, postOtlp } from '../support/otlp';

const root = mkdtempSync(join(tmpdir(), 'ct-fwd-backend-'));
let backend: EmbeddedBackend | undefined;
after(async () => {
  await backend?.stop();
  rmSync(root, { recursive: true, force: true });
});

const cfg = (port: number): ForwardConfig => ({
  version: 1, enabled: true, team: 'Nowhere', member: 'alice', role: 'contributor',
  otlp_http: `https://127.0.0.1:${port}`, query_url: `https://127.0.0.1:${port}`,
  ca_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', secret: 'ct_000000000000_not-a-real-secret', privacy: 'all', history: 'all',
});

test('embedded: configureForwarding writes 0600 atomically, forwardStatus follows it, undefined turns it off', async () => {
  const dataDir = join(root, 'data');
  backend = new EmbeddedBackend({ stateDir: join(root, 'state'), dataDir, serverScript, readyTimeoutMs: 60_000,
    endpoints: { host: '127.0.0.1', grpcPort: await freePort(), otlpHttpPort: await freePort(), httpPort: await freePort() } });
  await assert.rejects(backend.forwardStatus(), (e: Error) => e instanceof StackError && e.code === 'unhealthy', 'no server, no status');
  await backend.start();
  let st: ForwardStatus = await backend.forwardStatus();
  assert.equal(st.state, 'off');
  const e = (await backend.status()) as { endpoints: { otlpHttpPort: number } };
  const r = await postOtlp(`http://127.0.0.1:${e.endpoints.otlpHttpPort}`, 'logs', encodeLogs(logsRequest([{ name: 'api_request' }])), 'application/x-protobuf');
  assert.equal(r.status, 200);
  const deadPort = await freePort();
  await backend.configureForwarding(cfg(deadPort));
  const file = join(dataDir, 'forward.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dataDir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  await eventually(async () => (st = await backend!.forwardStatus()).state === 'failing', () => JSON.stringify(st), 30_000);
  assert.equal(st.team, 'Nowhere');
  assert.equal(st.member, 'alice');
  assert.match(st.last_error ?? '', /cannot reach the team server/);
  assert.ok(st.failing_since);
  assert.equal(st.queue_rows, 1);
  assert.equal(st.local_rows, 1);
  assert.doesNotMatch(JSON.stringify(st), /not-a-real-secret/, 'the status never carries the secret');
  await backend.configureForwarding({ ...cfg(deadPort), enabled: false });
  await eventually(async () => (st = await backend!.forwardStatus()).state === 'paused', () => JSON.stringify(st));
  await backend.configureForwarding(undefined);
  assert.equal(existsSync(file), false);
  await eventually(async () => (st = await backend!.forwardStatus()).state === 'off', () => JSON.stringify(st));
});

test('docker: a history to move and pull-back are refused clearly (not-supported), before anything is written', async () => {
  const secretsDir = join(root, 'docker-secrets');
  const docker = new DockerBackend({ composeFile: join(root, 'none.yml'), projectName: 'ct-fwd-none', secretsDir, engine: { socketPath: join(root, 'no.sock') } });
  await assert.rejects(docker.configureForwarding(cfg(1)), (e: Error) => e instanceof StackError && e.code === 'not-supported' && /forwards what arrives from now on/.test(e.message));
  assert.equal(existsSync(secretsDir), false, 'nothing written');
  await assert.rejects(docker.pullBack(), (e: Error) => e instanceof StackError && e.code === 'not-supported');
});
