// Start (to healthy) and Stop, embedded vs docker side by side (issue 5). Docker runs the production
// compose file on the local stand-in images (npm run docker:standins); "first start" creates the
// network, volumes and containers, "restart" starts the stopped containers again. Embedded is the
// baseline: docker figures are also given as a multiple of it. CT_BENCH_STACK_RUNS (default 3).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../src/stack/embedded';
import { DockerBackend } from '../src/stack/docker/backend';
import { standinEnv, uniqueProject, purge, composeFile } from '../test/docker/helpers';
import { freePort } from '../test/support/ports';
import { median, table, timeMs } from './lib/measure';
import type { StackBackend } from '../src/stack/types';

const RUNS = Number(process.env.CT_BENCH_STACK_RUNS ?? 3);

async function ports() {
  return { host: '127.0.0.1', grpcPort: await freePort(), otlpHttpPort: await freePort(), httpPort: await freePort() };
}

type Timings = { first: number[]; restart: number[]; stop: number[] };

/**
 * RUNS fresh backends, each timed through first start, stop and restart. `make` builds one and
 * returns it with the cleanup that removes everything it made, whatever state it was left in.
 */
async function cycle(make: () => Promise<{ backend: StackBackend; cleanup(): Promise<void> }>): Promise<Timings> {
  const out: Timings = { first: [], restart: [], stop: [] };
  for (let i = 0; i < RUNS; i++) {
    const { backend: b, cleanup } = await make();
    try {
      out.first.push(await timeMs(() => b.start()));
      out.stop.push(await timeMs(() => b.stop()));
      out.restart.push(await timeMs(() => b.start()));
      await b.stop();
    } finally {
      await cleanup();
    }
  }
  return out;
}

const embedded = () => cycle(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-emb-'));
  const backend = new EmbeddedBackend({ stateDir: join(dir, 'state'), dataDir: join(dir, 'data'), endpoints: await ports(), serverScript: join(__dirname, '..', 'dist', 'server.js') });
  return {
    backend,
    cleanup: async () => {
      await backend.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const docker = () => cycle(async () => {
  const project = uniqueProject('bench');
  const backend = new DockerBackend({ composeFile, projectName: project, endpoints: await ports(), collectorMetricsPort: await freePort(), env: standinEnv() });
  return { backend, cleanup: () => purge(project) };
});

async function main(): Promise<void> {
  const e = await embedded();
  const d = await docker();
  const row = (what: string, ev: number[], dv: number[]) => {
    const em = median(ev);
    const dm = median(dv);
    return [what, `${em.toFixed(0)} ms`, `${dm.toFixed(0)} ms`, `${(dm / em).toFixed(1)}×`];
  };
  console.log(`## Stack start and stop: embedded vs docker (issue 5)

Median of ${RUNS} runs each, through the StackBackend interface (what the extension and \`npm run stack\` do).
Start = until every service is healthy/ready (docker: ClickHouse healthcheck passes and the collector's
OTLP/HTTP port answers). Docker runs the production compose file on the local stand-in images
(the embedded server inside containers), so its figures add Docker's own cost to the same engine.

${table(['', 'embedded (baseline)', 'docker', 'docker / embedded'], [
    row('first start (creates network, volumes, containers / new data dir)', e.first, d.first),
    row('restart (start after stop)', e.restart, d.restart),
    row('stop', e.stop, d.stop),
  ])}
`);
}

void main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
