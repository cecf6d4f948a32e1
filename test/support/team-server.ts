/**
 * The built server as a team server (`dist/server.js --team DIR`) inside a test network namespace,
 * and HTTPS helpers that trust only the team CA (Node's fetch cannot take a CA, node:https can).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import type { TeamRole } from '../../src/core/team-bundle';
import { createNetnsHost, type NetnsHost } from './netns';
import { serverScript } from './server';
import { SERVER_NODE_FLAGS } from '../../src/core/server-node-flags';

export interface HttpReply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

export function send(url: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string>; ca?: string }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: opts.method ?? 'POST', headers: opts.headers, ca: opts.ca, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface TeamServerProcess {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the team server inside `host`'s namespace on its address and waits for `ready`. */
export async function startTeamServer(host: NetnsHost, teamDir: string, dataDir: string, extraArgs: string[] = []): Promise<TeamServerProcess> {
  let out = '';
  const proc = host.spawn(process.execPath, [...SERVER_NODE_FLAGS, serverScript, '--team', teamDir, '--host', host.nsAddress, '--data-dir', dataDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`team server not ready:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => { if (/\bready\b/.test(out)) { clearTimeout(timer); res(); } });
    proc.once('exit', (code) => { clearTimeout(timer); rej(new Error(`team server exited ${code}:\n${out}`)); });
  });
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** SQL over the team server's HTTPS port as `member:secret`; rows as objects (JSONEachRow). */
export async function teamSql(sqlUrl: string, ca: string, member: string, secret: string, query: string): Promise<Array<Record<string, unknown>>> {
  const r = await send(`${sqlUrl}/?default_format=JSONEachRow`, { body: query, ca, headers: { Authorization: `Basic ${Buffer.from(`${member}:${secret}`).toString('base64')}` } });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
  return r.body.trim() === '' ? [] : r.body.trim().split('\n').map((l) => JSON.parse(l));
}

/** A running team: its directory, CA and members, the server in its own network namespace, and one teardown. */
export interface Team {
  /** Temporary root holding `team/` (the team directory) and `data/` (the server's store). */
  root: string;
  dir: string;
  host: NetnsHost;
  server: TeamServerProcess;
  /** The team CA (PEM): the only CA a member trusts. */
  ca: string;
  /** `admin` (made by init) and every member asked for, by name. */
  members: Record<string, IssuedMember>;
  /** https://<ns address>:<http port> (SQL) and https://<ns address>:<otlp http port> (OTLP/HTTP). */
  sqlUrl: string;
  otlpUrl: string;
  /** Stops the server, removes the namespace and the temporary root. */
  close(): Promise<void>;
}

/**
 * Inits a team directory in a fresh temporary root, adds `members` in order, and starts the team server in a new
 * network namespace on `ports`. `limits` replace those keys of team.json's limits before the server starts (small ones
 * make a flood quick to provoke). `prepare` runs on the team directory last before the server starts (a rotation that
 * must be on disk when it reads the members). If any step fails, whatever was made is removed before the error is thrown.
 */
export async function startTeam(o: {
  name: string; ports: { grpc: number; otlpHttp: number; http: number }; members: Array<[string, TeamRole]>;
  limits?: Record<string, number>; tmpPrefix?: string; prepare?: (dir: string) => Promise<void>;
}): Promise<Team> {
  const root = mkdtempSync(join(tmpdir(), o.tmpPrefix ?? 'ct-team-'));
  const dir = join(root, 'team');
  let host: NetnsHost | undefined;
  let server: TeamServerProcess | undefined;
  try {
    host = createNetnsHost();
    const members: Record<string, IssuedMember> = { admin: (await initTeam({ dir, name: o.name, hostnames: [host.nsAddress], ports: o.ports })).admin };
    for (const [name, role] of o.members) members[name] = await addMember(dir, name, role);
    if (o.limits) {
      const cfg = JSON.parse(readFileSync(join(dir, 'team.json'), 'utf8'));
      cfg.limits = { ...cfg.limits, ...o.limits };
      writeFileSync(join(dir, 'team.json'), JSON.stringify(cfg));
    }
    await o.prepare?.(dir);
    server = await startTeamServer(host, dir, join(root, 'data'));
    const h = host;
    const s = server;
    return {
      root, dir, host: h, server: s, members,
      ca: readFileSync(join(dir, 'tls/ca.crt'), 'utf8'),
      sqlUrl: `https://${h.nsAddress}:${o.ports.http}`,
      otlpUrl: `https://${h.nsAddress}:${o.ports.otlpHttp}`,
      async close() {
        await s.stop();
        h.destroy();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** One OTLP logs Export over gRPC with TLS trusting only `ca`; `authorization` is the whole header value (none if absent). */
export function grpcExportLogs(target: string, ca: string, body: Buffer, authorization?: string): Promise<{ code: grpc.status; details: string }> {
  const client = new grpc.Client(target, grpc.credentials.createSsl(Buffer.from(ca)));
  const md = new grpc.Metadata();
  if (authorization) md.set('authorization', authorization);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, body, md, { deadline: Date.now() + 20_000 }, (err) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
    });
  });
}
