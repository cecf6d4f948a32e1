/**
 * A second host for tests: a network namespace joined to this one by a veth pair, each end with
 * its own address in a /30 of the benchmarking range 198.18.0.0/15 (RFC 2544), picked so it
 * overlaps nothing `ip addr` / `ip route` already show (the machine's own network is 192.0.2.0/24;
 * other test runs may hold other /30s). Commands run inside with `ip netns exec`.
 *
 * Teardown is synchronous and idempotent and also runs on process exit and on SIGINT/SIGTERM, so
 * a failed or interrupted test leaves no namespace or interface behind; namespaces left by a run
 * that was killed -9 are removed by the next run (their names carry the dead pid).
 * Needs root (CAP_NET_ADMIN), as the team tests on this machine have.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const PREFIX = 'ctns';

export interface NetnsHost {
  /** Namespace name (`ip netns exec <name> …`). */
  name: string;
  /** This host's address on the link (reach it from inside the namespace). */
  hostAddress: string;
  /** The namespace's address (where a server inside listens; connect to it from here). */
  nsAddress: string;
  /** This host's end of the veth pair. */
  hostInterface: string;
  /** Runs `command args…` inside the namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs and waits, returns stdout (throws on a non-zero exit). */
  run(command: string, args: string[]): string;
  /** Removes the veth pair and the namespace (also on process exit). */
  destroy(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces (and their veths) this harness made in runs whose process is gone. */
function removeLeftovers(): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)x\\d+)\\b`).exec(line.trim());
    if (!m || pidAlive(Number(m[2]))) continue;
    try { ip(['netns', 'delete', m[1]!]); } catch { /* already gone */ }
  }
  for (const line of ip(['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+:\s+(ctv(\d+)x\d+h)[@:]/.exec(line);
    if (!m || pidAlive(Number(m[2]))) continue;
    try { ip(['link', 'delete', m[1]!]); } catch { /* already gone */ }
  }
}

/** A free 198.18.k.(4j)/30: no existing address or route mentions 198.18.k. */
function freeSubnet(): { host: string; ns: string } {
  const used = ip(['-4', '-o', 'addr', 'show']) + ip(['-4', 'route', 'show', 'table', 'all']);
  const start = (process.pid % 250) + 1;
  for (let i = 0; i < 250; i++) {
    const k = ((start + i) % 250) + 1;
    if (used.includes(`198.18.${k}.`) || used.includes('198.18.0.0/15')) continue;
    return { host: `198.18.${k}.1`, ns: `198.18.${k}.2` };
  }
  throw new Error('no free /30 in 198.18.0.0/15 for a test namespace');
}

let counter = 0;
const live = new Set<NetnsHost>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const h of [...live]) h.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const h of [...live]) h.destroy();
      process.kill(process.pid, sig);
    });
  }
}

export function createNetnsHost(): NetnsHost {
  if (process.getuid?.() !== 0) throw new Error('test/support/netns.ts needs root (ip netns); run the team tests as root');
  removeLeftovers();
  installHooks();
  const id = `${process.pid}x${counter++}`;
  const name = `${PREFIX}${id}`;
  // IFNAMSIZ is 16: "ctv" + pid (≤ 7 digits) + "x" + n + "h" fits.
  const vHost = `ctv${id}h`;
  const vNs = `ctv${id}n`;
  const { host, ns } = freeSubnet();
  let destroyed = false;
  const h: NetnsHost = {
    name,
    hostAddress: host,
    nsAddress: ns,
    hostInterface: vHost,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    run: (command, args) => execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8' }),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(h);
      // Deleting one end deletes the pair; the namespace goes with whatever still runs in it unbound.
      try { ip(['link', 'delete', vHost]); } catch { /* gone with the namespace */ }
      try { ip(['netns', 'delete', name]); } catch { /* never made */ }
    },
  };
  live.add(h);
  try {
    ip(['netns', 'add', name]);
    ip(['link', 'add', vHost, 'type', 'veth', 'peer', 'name', vNs]);
    ip(['link', 'set', vNs, 'netns', name]);
    ip(['addr', 'add', `${host}/30`, 'dev', vHost]);
    ip(['link', 'set', vHost, 'up']);
    ip(['-n', name, 'addr', 'add', `${ns}/30`, 'dev', vNs]);
    ip(['-n', name, 'link', 'set', vNs, 'up']);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    h.destroy();
    throw new Error(`could not make the test namespace: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }
  return h;
}

/** Whether a namespace / interface of that name exists now (for teardown assertions). */
export function netnsExists(name: string): boolean {
  return ip(['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === name);
}

export function linkExists(name: string): boolean {
  try {
    ip(['link', 'show', name]);
    return true;
  } catch {
    return false;
  }
}
