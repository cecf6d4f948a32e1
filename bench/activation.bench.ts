// activate()'s own time in the REAL extension host (code-server), as the extension records it
// (chapterTelemetry.internal.stats), and the size of dist/extension.js. Targets: ≤ 20 ms, ≤ 1 MB.
// Each launch is a fresh code-server + window; CT_BENCH_ACTIVATION_RUNS (default 5) launches.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchVSCode, repoRoot } from '../test/support/codeserver';
import { table, verdict } from './lib/measure';

const RUNS = Number(process.env.CT_BENCH_ACTIVATION_RUNS ?? 5);

async function oneRun(i: number): Promise<number> {
  const workspace = mkdtempSync(join(tmpdir(), 'ct-bench-ws-'));
  const vs = await launchVSCode({
    workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'dist', 'test', 'suite', 'index.js'),
    env: { CT_SUITE_GREP: 'activation recorded its own time' },
    name: `bench-activation-${i}`,
  });
  try {
    const r = await vs.runTests(180_000);
    const m = /CT_ACTIVATION_MS (\d+(?:\.\d+)?)/.exec(r.log);
    if (r.exitCode !== 0 || !m) throw new Error(`activation probe failed (exit ${r.exitCode}):\n${r.log.slice(-2000)}`);
    return Number(m[1]);
  } finally {
    await vs.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const times: number[] = [];
for (let i = 0; i < RUNS; i++) times.push(await oneRun(i));
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const bundle = statSync(join(repoRoot, 'dist', 'extension.js')).size;
const server = statSync(join(repoRoot, 'dist', 'server.js')).size;

console.log(`## Extension activation (issue 3)

activate()'s own time, recorded by the extension inside code-server's extension host (${RUNS} fresh launches), and the
bundle size. The server bundle (${(server / 1e6).toFixed(2)} MB), loaded only when collection starts, is the baseline the
activation bundle is kept apart from.

${table(['figure', 'value', 'target', 'verdict'], [
  ['activate() median', `${median.toFixed(2)} ms (min ${times[0]!.toFixed(2)}, max ${times.at(-1)!.toFixed(2)})`, '≤ 20 ms', verdict(median <= 20)],
  ['dist/extension.js', `${(bundle / 1e6).toFixed(3)} MB (${(bundle / server).toFixed(2)}× the server bundle)`, '≤ 1 MB', verdict(bundle <= 1e6)],
])}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
