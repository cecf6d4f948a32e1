// `npm run package`: a production build (minified, no source maps) packed into a .vsix by @vscode/vsce.
// --no-dependencies: esbuild bundles everything the extension runs except the chDB engine, which the extension
// fetches from the npm registry on first start; .vscodeignore keeps only dist/, media/, resources/ and the schema.
// The build runs in a staging folder, so the checkout's own dist/ (dev build, source maps) is neither used nor changed.
// Usage: node scripts/package.mjs [--out FILE]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}); fix the error above and run npm run package again.`);
    process.exit(1);
  }
}

const stage = mkdtempSync(join(tmpdir(), 'ct-package-'));
try {
  // esbuild.mjs takes its entry points relative to the working directory: link the sources in, build, unlink.
  const links = ['src', 'test', 'node_modules'].filter((d) => existsSync(join(root, d)));
  for (const d of links) symlinkSync(join(root, d), join(stage, d));
  run(process.execPath, [join(root, 'esbuild.mjs'), '--production'], stage);
  for (const d of links) unlinkSync(join(stage, d));

  for (const f of ['package.json', 'README.md', 'LICENSE', '.vscodeignore', 'media', 'resources', 'telemetry-server']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true });
  }
  // The manifest has no repository or LICENSE file yet; without these flags vsce stops at an interactive question.
  run(process.execPath, [
    join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
    'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out,
  ], stage);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
