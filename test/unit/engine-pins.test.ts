// The engine download installs only what this build pinned (scripts/engine-pins.mjs → dist/engine-pins.json).
// A local registry stand-in (a real HTTP server serving package documents and tarballs, as the npm registry
// does) lies in each way a registry or proxy could: other bytes, another hash, another name, another version.
// Each lie is refused and nothing is installed; an honest stand-in installs (so the refusals are not an
// accident of the stand-in).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { engineDir, fetchEngine, loadEnginePins, type EngineLocation, type EnginePins } from '../../src/stack/engine';
import { StackError } from '../../src/stack/types';
import { sri, tgzBytes } from '../support/tar-build';
// @ts-expect-error: a plain .mjs build script without type declarations
import { enginePinsFromLock } from '../../scripts/engine-pins.mjs';
import { tempDirsPerFile } from '../support/temp-dirs';

const tmp = tempDirsPerFile();

const LIB = '@chdb/lib-linux-x64-gnu';
const pkgTgz = (name: string, version: string, extra = '') =>
  tgzBytes([{ path: 'package/package.json', data: JSON.stringify({ name, version }) }, { path: 'package/index.js', data: `module.exports = ${JSON.stringify(name + extra)};\n` }]);

const good = {
  chdb: pkgTgz('chdb', '3.4.0'),
  common: pkgTgz('@clickhouse/client-common', '1.23.0'),
  lib: pkgTgz(LIB, '26.7.3-stable.1'),
};
const evil = pkgTgz('chdb', '3.4.0', ' + require("child_process")');

function pinsFor(libIntegrity: string | undefined): EnginePins {
  return {
    chdb: '3.4.0',
    packages: [
      { name: 'chdb', version: '3.4.0', integrity: sri(good.chdb) },
      { name: '@clickhouse/client-common', version: '1.23.0', integrity: sri(good.common) },
    ],
    platformLibs: { [LIB]: libIntegrity ? { version: '26.7.3-stable.1', integrity: libIntegrity } : { version: '26.7.3-stable.1' } },
  };
}

interface Served {
  /** What the package document says for that version (name, version, integrity); the tarball path is added. */
  doc: { name: string; version: string; integrity: string };
  bytes: Buffer;
}

/** A registry stand-in: GET /<name> (scoped names as %2F) → package document; GET /t/<n>.tgz → bytes. */
async function registry(packages: Record<string, Served>, log: string[]): Promise<{ url: string; server: Server }> {
  const list = Object.entries(packages);
  const server = createServer((req, res) => {
    log.push(`GET ${req.url}`);
    const url = req.url ?? '';
    const tgz = /^\/t\/(\d+)\.tgz$/.exec(url);
    if (tgz) return res.end(list[Number(tgz[1])]![1].bytes);
    const i = list.findIndex(([name]) => url === `/${name.replace('/', '%2F')}`);
    if (i < 0) return res.writeHead(404).end('{}');
    const { doc } = list[i]![1];
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: list[i]![0], versions: { [doc.version]: { name: doc.name, version: doc.version, dist: { tarball: `${base}/t/${i}.tgz`, integrity: doc.integrity } } } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

const honest = (): Record<string, Served> => ({
  chdb: { doc: { name: 'chdb', version: '3.4.0', integrity: sri(good.chdb) }, bytes: good.chdb },
  '@clickhouse/client-common': { doc: { name: '@clickhouse/client-common', version: '1.23.0', integrity: sri(good.common) }, bytes: good.common },
  [LIB]: { doc: { name: LIB, version: '26.7.3-stable.1', integrity: sri(good.lib) }, bytes: good.lib },
});

async function fetchFrom(packages: Record<string, Served>, pins: EnginePins) {
  const log: string[] = [];
  const { url, server } = await registry(packages, log);
  const storageDir = tmp('ct-pins-');
  const notices: string[] = [];
  try {
    const result = await fetchEngine({ storageDir, chdbVersion: '3.4.0', pins, registry: url, platform: 'linux', arch: 'x64', glibc: true, onNotice: (l) => { notices.push(l); log.push(`NOTICE ${l}`); } })
      .then((loc): { loc?: EngineLocation; error?: unknown } => ({ loc }), (error: unknown): { loc?: EngineLocation; error?: unknown } => ({ error }));
    return { ...result, log, notices, storageDir };
  } finally {
    server.close();
  }
}

/** Nothing installed and no staging folder left. */
function assertNothingInstalled(storageDir: string): void {
  const final = engineDir(storageDir, '3.4.0');
  assert.equal(existsSync(final), false);
  assert.deepEqual(existsSync(join(final, '..')) ? readdirSync(join(final, '..')) : [], []);
}

function assertRefused(r: { error?: unknown }, message: RegExp): void {
  assert.ok(r.error instanceof StackError, String(r.error));
  assert.match(r.error.message, message);
}

describe('engine pins: a lying registry is refused, nothing is installed', () => {
  test('an honest registry installs exactly the pinned packages', async () => {
    const r = await fetchFrom(honest(), pinsFor(sri(good.lib)));
    assert.ok(r.loc, String(r.error));
    const nm = join(engineDir(r.storageDir, '3.4.0'), 'node_modules');
    assert.equal(readFileSync(join(nm, 'chdb', 'index.js'), 'utf8'), 'module.exports = "chdb";\n');
    assert.ok(existsSync(join(nm, '@clickhouse', 'client-common', 'package.json')));
    assert.ok(existsSync(join(nm, '@chdb', 'lib-linux-x64-gnu', 'package.json')));
    assert.deepEqual(r.notices, []);
    assert.deepEqual(JSON.parse(readFileSync(join(engineDir(r.storageDir, '3.4.0'), 'complete.json'), 'utf8')).unpinned, []);
  });

  test('other bytes under the pinned name and version, with their own (matching) integrity: refused before download', async () => {
    const p = honest();
    p.chdb = { doc: { name: 'chdb', version: '3.4.0', integrity: sri(evil) }, bytes: evil };
    const r = await fetchFrom(p, pinsFor(sri(good.lib)));
    assertRefused(r, /does not match what this build pinned/);
    assert.ok(!r.log.some((l) => l.includes('.tgz')), r.log.join('\n'));
    assertNothingInstalled(r.storageDir);
  });

  test('other bytes behind the pinned integrity: refused after download, before unpacking', async () => {
    const p = honest();
    p[LIB] = { ...p[LIB]!, bytes: pkgTgz(LIB, '26.7.3-stable.1', 'evil') };
    const r = await fetchFrom(p, pinsFor(sri(good.lib)));
    assertRefused(r, /corrupt: its sha512 does not match the hash this build pinned/);
    assertNothingInstalled(r.storageDir);
  });

  test('a package document naming another package (an extraction path) is refused', async () => {
    for (const name of ['../../../evil', '@clickhouse/client']) {
      const p = honest();
      p['@clickhouse/client-common'] = { ...p['@clickhouse/client-common']!, doc: { ...p['@clickhouse/client-common']!.doc, name } };
      const r = await fetchFrom(p, pinsFor(sri(good.lib)));
      assertRefused(r, /does not match what this build pinned/);
      assert.match((r.error as StackError).detail ?? '', new RegExp(name.replace(/[./]/g, '\\$&')));
      assertNothingInstalled(r.storageDir);
      assert.equal(existsSync(join(r.storageDir, '..', 'evil')), false);
    }
  });

  test('only a newer version on the registry: not taken (versions do not float)', async () => {
    const p = honest();
    p['@clickhouse/client-common'] = { ...p['@clickhouse/client-common']!, doc: { ...p['@clickhouse/client-common']!.doc, version: '1.23.9' } };
    const r = await fetchFrom(p, pinsFor(sri(good.lib)));
    assertRefused(r, /has no @clickhouse\/client-common@1\.23\.0/);
    assertNothingInstalled(r.storageDir);
  });

  test('a platform without a pinned hash: the author is told before any download starts', async () => {
    const r = await fetchFrom(honest(), pinsFor(undefined));
    assert.ok(r.loc, String(r.error));
    assert.equal(r.notices.length, 1);
    assert.match(r.notices[0]!, /No pinned hash for @chdb\/lib-linux-x64-gnu@26\.7\.3-stable\.1/);
    const firstTarball = r.log.findIndex((l) => l.includes('.tgz'));
    assert.ok(r.log.findIndex((l) => l.startsWith('NOTICE')) < firstTarball, r.log.join('\n'));
    assert.deepEqual(JSON.parse(readFileSync(join(engineDir(r.storageDir, '3.4.0'), 'complete.json'), 'utf8')).unpinned, [LIB]);
  });

  test('a build without pins cannot download at all', () => {
    assert.throws(() => loadEnginePins(join(tmp('ct-nopins-'), 'engine-pins.json')), /no engine pins/);
  });
});

describe('engine pins made at build time from package-lock.json', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));

  test('dist/engine-pins.json (npm run build) is what the lock says, with a sha512 for this platform', () => {
    const pins = loadEnginePins();
    assert.deepEqual(pins, enginePinsFromLock(lock));
    assert.equal(pins.chdb, lock.packages['node_modules/chdb'].version);
    assert.deepEqual(pins.packages.map((p) => p.name), ['chdb', '@clickhouse/client-common']);
    for (const p of pins.packages) assert.equal(p.integrity, lock.packages[`node_modules/${p.name}`].integrity);
    assert.match(pins.platformLibs[LIB]?.integrity ?? '', /^sha512-/);
    assert.equal(pins.platformLibs['@chdb/lib-darwin-arm64']?.integrity, undefined);
    assert.equal(pins.platformLibs['@chdb/lib-darwin-arm64']?.version, pins.platformLibs[LIB]?.version);
  });

  const miniLock = (range: string, installed: string) => ({
    packages: {
      'node_modules/chdb': { version: '3.4.0', integrity: 'sha512-a', dependencies: { dep: range } },
      'node_modules/dep': { version: installed, integrity: 'sha512-b' },
    },
  });

  test('range forms npm writes are understood (semver): ~, spaced >=, =, hyphen ranges, prereleases', () => {
    for (const [range, v] of [['~1', '1.2.4'], ['>= 1.2.0', '1.2.4'], ['=1.2.4', '1.2.4'], ['1.2.0 - 1.3.0', '1.2.4'], ['^1.2.0-beta.1', '1.2.4'], ['^1.2.0-beta.2', '1.2.0-beta.10']]) {
      assert.equal(enginePinsFromLock(miniLock(range!, v!)).packages[1].version, v, `${v} in ${range}`);
    }
  });

  test('an out-of-sync lock (a version outside the declared range) stops the build', () => {
    assert.throws(() => enginePinsFromLock(miniLock('^1.22.0', '2.0.0')), /does not satisfy chdb's \^1\.22\.0/);
    assert.throws(() => enginePinsFromLock(miniLock('^1.2.0-beta.10', '1.2.0-beta.2')), /does not satisfy/);
  });
});
