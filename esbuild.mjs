// Bundles the extension host code, the embedded server and the webview scripts, and writes
// dist/engine-pins.json (the engine packages a download may install; scripts/engine-pins.mjs).
// The server keeps chdb external: it is a native addon that must be resolved at run time
// (from node_modules, or the engine the extension fetched into global storage).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { writeEnginePins } from './scripts/engine-pins.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/server/main.ts'],
    outfile: 'dist/server.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['chdb', 'chdb/*'],
  },
  {
    ...common,
    entryPoints: ['src/stack/cli.ts'],
    outfile: 'dist/stack-cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['chdb', 'chdb/*', 'vscode'],
  },
  {
    // Headless export and weekly report (npm run export / npm run report).
    ...common,
    entryPoints: ['src/stack/export-cli.ts'],
    outfile: 'dist/export-cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/stack/report-cli.ts'],
    outfile: 'dist/report-cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    // `npm run team`: headless team administration (src/server/team/).
    ...common,
    entryPoints: ['src/server/team/cli.ts'],
    outfile: 'dist/team-cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // backup/restore load the engine (native) at run time, only for those two commands.
    external: ['chdb', 'chdb/*'],
  },
  {
    // The docker backend, loaded lazily by src/stack/index.ts: dockerode stays out of activation.
    ...common,
    entryPoints: ['src/stack/docker/index.ts'],
    outfile: 'dist/stack-docker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'cpu-features', '*.node'],
  },
  {
    // The manuscript counter's worker thread (word counts, git history) — off the extension host's thread.
    ...common,
    entryPoints: ['src/manuscript/worker.ts'],
    outfile: 'dist/manuscript-worker.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    // Mocha suites that run inside the real extension host (code-server harness / @vscode/test-cli).
    ...common,
    entryPoints: ['test/vscode/suite/index.ts'],
    outfile: 'dist/test/suite/index.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha'],
  },
  {
    ...common,
    entryPoints: ['src/webview/sidebar.ts', 'src/webview/panel.ts'],
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
].filter((b) => (b.entryPoints ?? []).every((e) => existsSync(e)));

mkdirSync('dist', { recursive: true });
// The lock next to this file (scripts/package.mjs runs the build in a staging folder).
writeEnginePins(new URL('./package-lock.json', import.meta.url), 'dist/engine-pins.json');

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
