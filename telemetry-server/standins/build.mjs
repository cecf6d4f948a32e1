// `npm run docker:standins`: builds the local images that stand in for the official ones (no image
// can be pulled on the test machines). Base: this machine's node binary + the glibc libraries it
// and chDB link against + the chdb packages, imported as a rootfs tarball (no registry, no apt),
// cached by content. Stand-ins: the base + dist/server.js + a role entrypoint.
//   chapter-telemetry/standin-clickhouse:test  ClickHouse HTTP on 8123 (the embedded server over chDB,
//                                              behind the mounted users.d writer and config.d Host rule)
//   chapter-telemetry/standin-collector:test   OTLP on 4317/4318 into http://clickhouse:8123
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const Docker = require('dockerode');
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const docker = new Docker();
const force = process.argv.includes('--force');
const t0 = Date.now();
const log = (m) => process.stderr.write(`standins: ${m} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);

const CHDB_PACKAGES = ['chdb', '@chdb/lib-linux-x64-gnu', '@clickhouse/client-common', 'node-addon-api', 'node-gyp-build'];

function sharedLibs(files) {
  const libs = new Set();
  for (const f of files) {
    const out = execFileSync('ldd', [f], { encoding: 'utf8' });
    for (const m of out.matchAll(/(?:=>\s*)?(\/[^\s]+\.so[^\s]*)\s+\(/g)) if (!m[1].includes('node_modules')) libs.add(m[1]);
  }
  return [...libs].sort();
}

async function imageExists(name) {
  try {
    return await docker.getImage(name).inspect();
  } catch (err) {
    if (err.statusCode === 404) return undefined;
    throw err;
  }
}

function place(src, dest) {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    linkSync(realpathSync(src), dest); // same filesystem: no copy of the 540 MB engine
  } catch {
    copyFileSync(realpathSync(src), dest);
  }
}

async function tarInto(dir, consume) {
  const tar = spawn('tar', ['-C', dir, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise((res, rej) => tar.on('exit', (c) => (c === 0 ? res() : rej(new Error(`tar exited ${c}`)))));
  const result = await consume(tar.stdout);
  await done;
  return result;
}

async function followStream(stream) {
  return await new Promise((res, rej) =>
    docker.modem.followProgress(stream, (err, events) => {
      const failed = err ?? events.find((e) => e.error);
      if (failed) return rej(new Error(failed.error ?? failed.message));
      res(events);
    }),
  );
}

async function buildBase() {
  const nodeBin = realpathSync(process.execPath);
  const chdbLib = require.resolve('@chdb/lib-linux-x64-gnu/libchdb.so', { paths: [root] });
  const libs = sharedLibs([nodeBin, chdbLib, join(dirname(chdbLib), 'chdb_node.node')]);
  const versions = CHDB_PACKAGES.map((p) => `${p}@${JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version}`);
  const hash = createHash('sha256').update(JSON.stringify([process.version, versions, libs])).digest('hex').slice(0, 12);
  const tag = `chapter-telemetry/standin-base:${hash}`;
  if (!force && (await imageExists(tag))) {
    log(`base ${tag} cached`);
    return tag;
  }
  const stage = mkdtempSync(join(tmpdir(), 'ct-standin-base-'));
  try {
    place(nodeBin, join(stage, 'usr/local/bin/node'));
    for (const lib of libs) place(lib, join(stage, lib));
    for (const p of CHDB_PACKAGES) {
      const src = join(root, 'node_modules', p);
      const dest = join(stage, 'app/node_modules', p);
      if (p === '@chdb/lib-linux-x64-gnu') {
        for (const f of ['package.json', 'index.js', 'chdb_node.node', 'libchdb.so']) place(join(src, f), join(dest, f));
      } else {
        cpSync(src, dest, { recursive: true, dereference: true, filter: (s) => !/\/(test|example|docs?)(\/|$)/.test(s.slice(src.length)) });
      }
    }
    mkdirSync(join(stage, 'tmp'), { mode: 0o1777 });
    mkdirSync(join(stage, 'etc'), { recursive: true });
    writeFileSync(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n');
    writeFileSync(join(stage, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    writeFileSync(join(stage, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    log(`importing base ${tag} (${libs.length} libraries + node ${process.version} + chdb)`);
    await tarInto(stage, async (stream) => {
      const res = await docker.importImage(stream, { repo: 'chapter-telemetry/standin-base', tag: hash, changes: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'WORKDIR /app'] });
      return await followStream(res);
    });
    return tag;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

async function buildStandin(base, role) {
  const server = join(root, 'dist', 'server.js');
  const migrations = join(root, 'telemetry-server', 'clickhouse', 'migrations');
  const ctx = mkdtempSync(join(tmpdir(), `ct-standin-${role}-`));
  // CT_STANDIN_TAG: several checkouts sharing one Docker daemon each keep their own stand-ins.
  const name = `chapter-telemetry/standin-${role}:${process.env.CT_STANDIN_TAG || 'test'}`;
  const content = createHash('sha256').update(base).update(readFileSync(server)).update(readFileSync(join(here, 'entry.js')))
    .update(readFileSync(join(here, 'wget.js'))).update(readFileSync(here + '/build.mjs')).digest('hex').slice(0, 16);
  const existing = await imageExists(name);
  if (!force && existing?.Config?.Labels?.['dev.chapter-telemetry.standin-content'] === content) {
    log(`${name} up to date`);
    return;
  }
  try {
    mkdirSync(join(ctx, 'app/dist'), { recursive: true });
    copyFileSync(server, join(ctx, 'app/dist/server.js'));
    copyFileSync(join(here, 'entry.js'), join(ctx, 'app/entry.js'));
    mkdirSync(join(ctx, 'usr/bin'), { recursive: true });
    copyFileSync(join(here, 'wget.js'), join(ctx, 'usr/bin/wget'));
    execFileSync('chmod', ['755', join(ctx, 'usr/bin/wget')]);
    mkdirSync(join(ctx, 'app/telemetry-server/clickhouse'), { recursive: true });
    // The ClickHouse stand-in links the mounted migrations in at start (entry.js), as the official image applies them.
    if (role !== 'clickhouse') cpSync(migrations, join(ctx, 'app/telemetry-server/clickhouse/migrations'), { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), [
      `FROM ${base}`,
      'COPY app /app',
      'COPY usr /usr',
      `ENV STANDIN_ROLE=${role}`,
      `LABEL dev.chapter-telemetry.standin-content=${content}`,
      role === 'clickhouse' ? 'EXPOSE 8123' : 'EXPOSE 4317 4318',
      'ENTRYPOINT ["/usr/local/bin/node", "/app/entry.js"]',
      '',
    ].join('\n'));
    log(`building ${name}`);
    await tarInto(ctx, async (stream) => followStream(await docker.buildImage(stream, { t: name, rm: true, forcerm: true })));
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

if (!existsSync(join(root, 'dist', 'server.js'))) {
  process.stderr.write('standins: dist/server.js is missing; run npm run build first\n');
  process.exit(1);
}
try {
  await docker.ping();
} catch (err) {
  process.stderr.write(`standins: the Docker daemon does not answer (${err.code ?? err.message}); start it (sudo dockerd &) and try again\n`);
  process.exit(1);
}
const base = await buildBase();
await buildStandin(base, 'clickhouse');
await buildStandin(base, 'collector');
log('done');
