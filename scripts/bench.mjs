// `npm run bench`: runs every bench/*.bench.ts (each prints one Markdown section to stdout,
// with figures as ratios against a baseline measured in the same run) and writes BENCHMARKS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

const only = process.argv.slice(2);
execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
const files = readdirSync('bench').filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const sections = [];
for (const f of files) {
  console.error(`bench: ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  sections.push(r.status === 0 ? r.stdout.trim() : `## ${f}\n\nFAILED (exit ${r.status}).`);
}
const header = `# Benchmarks\n\nLatest \`npm run bench\`: ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}.\nEach figure is compared with a baseline measured in the same run.\n`;
if (only.length === 0) writeFileSync('BENCHMARKS.md', [header, ...sections].join('\n\n') + '\n');
console.log([header, ...sections].join('\n\n'));
