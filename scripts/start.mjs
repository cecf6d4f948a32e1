// `npm start`: make sure dependencies and the build are there, then run the embedded server in
// the foreground, passing every argument through (`npm start -- --data-dir /tmp/x`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync(join(root, 'node_modules', 'chdb')) || !existsSync(join(root, 'node_modules', 'esbuild'))) {
  console.error('npm start: installing dependencies (first run)…');
  // Not `npm ci`: chdb's optional engine packages for other platforms are not on the registry.
  run('npm', ['install', '--no-audit', '--no-fund']);
}
run(process.execPath, [join(root, 'esbuild.mjs')]);
// fd 3 is a pipe the server watches: when this process dies in any way (even kill -9), the pipe
// closes and the server stops gracefully instead of running on as an orphan.
const child = spawn(process.execPath, [join(root, 'dist', 'server.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
  env: { ...process.env, CHAPTER_TELEMETRY_PARENT_FD: '3' },
});
let stopping = false;
const stop = (sig) => {
  if (stopping) return;
  stopping = true;
  child.kill(sig);
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(sig === 'SIGHUP' ? 'SIGTERM' : sig));
// `npm start` runs this under `sh -c`; a signal to npm reaches sh, which dies without passing it on.
// Our parent changing (we were re-parented) means whoever started us is gone: stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop('SIGTERM');
}, 250).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
