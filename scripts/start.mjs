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
// The server gets its own process group: a terminal's Ctrl-C (or a group-wide signal) then reaches it
// once, through this script, instead of twice (from the terminal and forwarded from here), which the
// server would take for a second Ctrl-C and exit without finishing in-flight exports. No stdin: a
// process outside the terminal's foreground group must not read from it.
// The server's V8 flags: src/core/server-node-flags.ts says why.
const child = spawn(process.execPath, ['--max-semi-space-size=4', join(root, 'dist', 'server.js'), ...process.argv.slice(2)], {
  cwd: root,
  detached: true,
  stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  env: { ...process.env, CHAPTER_TELEMETRY_PARENT_FD: '3' },
});
// The first stop request is passed on (SIGHUP, the terminal closing, as the server's graceful SIGTERM).
// After that only a SIGINT is, as a second Ctrl-C ("exit now" in the server), and only when it comes
// later than the first: one Ctrl-C in a terminal reaches this process twice, from the terminal and
// forwarded by npm, and must not abort the graceful stop. Requests that come by themselves (our
// re-parenting) never count as a second Ctrl-C.
const SAME_KEYPRESS_MS = 1000;
let forwardedAt = 0;
const running = () => child.exitCode === null && child.signalCode === null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (!running()) return;
    if (forwardedAt && (sig !== 'SIGINT' || Date.now() - forwardedAt < SAME_KEYPRESS_MS)) return;
    forwardedAt = Date.now();
    child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig);
  });
}
// package.json's start script `exec`s this script, so npm is our parent and forwards SIGINT/SIGTERM to
// us directly (through `sh -c` a SIGINT stopped at the shell). npm does not forward SIGHUP and dies of
// it, as it does of SIGKILL: our parent changing (we were re-parented) means whoever started us is
// gone, so the server stops then too.
const parent = process.ppid;
const orphanCheck = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphanCheck);
  if (running() && !forwardedAt) {
    forwardedAt = Date.now();
    child.kill('SIGTERM');
  }
}, 250);
orphanCheck.unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
