/**
 * Docker mode's access model (issue 8) on the stand-in images, which read the same mounted users.d
 * writer file and config.d Host rule the official ClickHouse image reads: the generated writer
 * password stays in an owner-only file (never in a container's environment or command), the
 * collector writes as the writer, a foreign Host or any Origin is refused, wrong credentials get
 * 401/516, and anonymous requests cannot write.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sha256Hex } from '../../src/stack/docker/writer-secret';
import { WRITER_USER } from '../../src/stack/types';
import { docker, eventually, purge, testStack, type TestStack } from './helpers';

const run = promisify(execFile);

/** Real curl, headers exactly as given; returns the status code and body. */
async function curl(url: string, args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', ...args, url]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

function otlpLog(body: string) {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'lockdown-test' } }] },
      scopeLogs: [{ logRecords: [{ timeUnixNano: String(Date.now() * 1e6), body: { stringValue: body }, attributes: [] }] }],
    }],
  };
}

describe('docker mode lockdown (stand-in images, real engine)', () => {
  let stack: TestStack;
  let url: string;

  before(async () => {
    stack = await testStack('lock');
    url = `http://127.0.0.1:${stack.ports.httpPort}/`;
    assert.equal(await stack.backend.writerCredentials(), undefined, 'no credential before the first start');
    const status = await stack.backend.start();
    assert.equal(status.state, 'running');
  });
  after(async () => {
    if (stack) await purge(stack.project);
  });

  test('the writer password: generated once, owner-only, only its SHA-256 in the users.d file', async () => {
    const creds = await stack.backend.writerCredentials();
    assert.ok(creds);
    assert.equal(creds.user, WRITER_USER);
    assert.match(creds.password, /^ctw_[A-Za-z0-9_-]{43}$/);
    const dir = stack.backend.secretsDir;
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'writer-password')).mode & 0o777, 0o600);
    const xml = readFileSync(join(dir, 'writer-users.xml'), 'utf8');
    assert.ok(xml.includes(`<password_sha256_hex>${sha256Hex(creds.password)}</password_sha256_hex>`));
    assert.ok(!xml.includes(creds.password), 'the users.d file holds no password');
    // A second start keeps it.
    await stack.backend.start();
    assert.deepEqual(await stack.backend.writerCredentials(), creds);
  });

  test('the password is in no container environment, command or label', async () => {
    const { password } = (await stack.backend.writerCredentials())!;
    for (const service of ['clickhouse', 'otel-collector']) {
      const info = await docker.getContainer(`${stack.project}-${service}-1`).inspect();
      const visible = JSON.stringify([info.Config.Env, info.Config.Cmd, info.Config.Entrypoint, info.Args, info.Path, info.Config.Labels]);
      assert.ok(!visible.includes(password), `${service} shows the password`);
      const logs = (await docker.getContainer(info.Id).logs({ stdout: true, stderr: true, follow: false })).toString('utf8');
      assert.ok(!logs.includes(password), `${service}'s log shows the password`);
    }
  });

  test('the collector writes as the writer: an OTLP export lands in otel_logs', async () => {
    const marker = `lockdown-${Date.now()}`;
    const res = await fetch(`http://127.0.0.1:${stack.ports.otlpHttpPort}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpLog(marker)) });
    assert.equal(res.status, 200, await res.text());
    await eventually(async () => (await stack.sql(`SELECT count() FROM otel_logs WHERE Body = '${marker}'`)).trim() === '1', 'the exported record in otel_logs');
  });

  test('Host rule: loopback names answer, a foreign Host gets 403 (DNS rebinding)', async () => {
    const port = stack.ports.httpPort;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`]) {
      const r = await curl(url, ['-H', `Host: ${host}`, '--data', 'SELECT 1']);
      assert.equal(r.status, 200, `${host}: ${r.body}`);
      assert.equal(r.body.trim(), '1');
    }
    for (const host of [`evil.example:${port}`, 'evil.example', 'localhost.evil.example', `127.0.0.1.nip.io:${port}`]) {
      const r = await curl(url, ['-H', `Host: ${host}`, '--data', 'SELECT version()']);
      assert.equal(r.status, 403, `${host} was answered: ${r.body}`);
      assert.match(r.body, /Code: 497/);
    }
  });

  test('any request carrying an Origin header is refused (a web page)', async () => {
    const r = await curl(url, ['-X', 'POST', '-H', 'Content-Type: text/plain', '-H', 'Origin: http://evil.example', '--data', 'SELECT 1']);
    assert.equal(r.status, 403);
  });

  test('wrong or unknown credentials: 401 with code 516, in every way ClickHouse accepts them', async () => {
    const { password } = (await stack.backend.writerCredentials())!;
    const attempts: string[][] = [
      ['-u', `${WRITER_USER}:wrong`],
      ['-H', `X-ClickHouse-User: ${WRITER_USER}`, '-H', 'X-ClickHouse-Key: wrong'],
      ['-u', `someone:${password}`],
    ];
    for (const a of attempts) {
      const r = await curl(url, [...a, '--data', 'SELECT 1']);
      assert.equal(r.status, 401, `${a.join(' ')}: ${r.body}`);
      assert.match(r.body, /Code: 516/);
    }
    const params = await curl(`${url}?user=${WRITER_USER}&password=wrong`, ['--data', 'SELECT 1']);
    assert.equal(params.status, 401);
  });

  test('the writer can write; anonymous requests cannot', async () => {
    assert.equal((await stack.writerSql('SELECT currentDatabase()')).trim(), 'default');
    await stack.writerSql("INSERT INTO chapter_focus (timestamp, user_id, chapter, workspace, file) VALUES ('2026-11-30 00:00:00.000', 'lockdown', 'ch01', 'w', 'f')");
    assert.equal((await stack.sql("SELECT count() FROM chapter_focus WHERE user_id = 'lockdown'")).trim(), '1');
    const before = (await stack.sql('SELECT count() FROM otel_logs')).trim();
    const r = await curl(url, ['--data', 'DROP TABLE otel_logs']);
    assert.notEqual(r.status, 200, `anonymous DROP was accepted: ${r.body}`);
    const ins = await curl(url, ['--data', "INSERT INTO otel_logs (Body) VALUES ('anonymous')"]);
    assert.notEqual(ins.status, 200, `anonymous INSERT was accepted: ${ins.body}`);
    assert.equal((await stack.sql('SELECT count() FROM otel_logs')).trim(), before);
  });

  test('a deleted password file: the next start makes a new one and recreates the containers; data kept, the old one refused', async () => {
    const old = (await stack.backend.writerCredentials())!;
    const idsBefore = await Promise.all(['clickhouse', 'otel-collector'].map(async (s) => (await docker.getContainer(`${stack.project}-${s}-1`).inspect()).Id));
    const before = (await stack.sql('SELECT count() FROM otel_logs')).trim();
    rmSync(join(stack.backend.secretsDir, 'writer-password'));
    const progress: string[] = [];
    assert.equal((await stack.backend.start({ onProgress: (p) => progress.push(p.message) })).state, 'running');
    const fresh = await stack.backend.writerCredentials();
    assert.ok(fresh && fresh.password !== old.password, 'a new password');
    assert.ok(progress.some((m) => /new writer password/.test(m)), progress.join('\n'));
    const idsAfter = await Promise.all(['clickhouse', 'otel-collector'].map(async (s) => (await docker.getContainer(`${stack.project}-${s}-1`).inspect()).Id));
    for (let i = 0; i < 2; i++) assert.notEqual(idsAfter[i], idsBefore[i], 'recreated');
    assert.equal((await stack.sql('SELECT count() FROM otel_logs')).trim(), before, 'the data volume stayed');
    assert.equal((await stack.writerSql('SELECT 1')).trim(), '1');
    assert.equal((await curl(url, ['-u', `${old.user}:${old.password}`, '--data', 'SELECT 1'])).status, 401);
    const marker = `after-new-password-${Date.now()}`;
    const res = await fetch(`http://127.0.0.1:${stack.ports.otlpHttpPort}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpLog(marker)) });
    assert.equal(res.status, 200, await res.text());
    await eventually(async () => (await stack.sql(`SELECT count() FROM otel_logs WHERE Body = '${marker}'`)).trim() === '1', 'an export after the new password');
  });
});
