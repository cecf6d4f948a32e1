// Engine fetch: pure parts, the tar reader against archives made by GNU tar, and the real npm
// registry (metadata + the small chdb tarball). Corruption is injected by a loopback server that
// serves the real tarball with one byte flipped — a fault the real registry cannot be made to cause.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  installPlan, integrityMatches, libPackageFor, locateEngine, planEngine, unsupportedPlatformError, fetchEngine, DEFAULT_REGISTRY, engineDir,
} from '../../src/stack/engine';
import { maxSatisfying, satisfies } from '../../src/stack/semver-lite';
import { extractTgz, TarError } from '../../src/stack/tar-extract';
import { StackError } from '../../src/stack/types';

const roots: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  roots.push(d);
  return d;
};
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

describe('semver-lite', () => {
  test('ranges', () => {
    assert.ok(satisfies('1.23.0', '^1.22.0'));
    assert.ok(!satisfies('2.0.0', '^1.22.0'));
    assert.ok(satisfies('0.3.9', '^0.3.1') && !satisfies('0.4.0', '^0.3.1'));
    assert.ok(satisfies('4.8.4', '~4.8.0') && !satisfies('4.9.0', '~4.8.0'));
    assert.ok(satisfies('26.7.3-stable.1', '26.7.3-stable.1'));
    assert.ok(!satisfies('1.3.0-beta.1', '^1.2.0'));
    assert.ok(satisfies('5.1.0', '>=4.0.0 <6') && satisfies('3.0.0', '1.x || 3.x'));
    assert.equal(maxSatisfying(['1.22.0', '1.23.0', '1.24.0-rc.1', '2.0.0'], '^1.22.0'), '1.23.0');
  });
});

describe('platforms', () => {
  test('lib package per platform; Windows and musl are unsupported with a pointer to docker', () => {
    assert.equal(libPackageFor('linux', 'x64', true), '@chdb/lib-linux-x64-gnu');
    assert.equal(libPackageFor('darwin', 'arm64', false), '@chdb/lib-darwin-arm64');
    assert.equal(libPackageFor('linux', 'x64', false), undefined);
    assert.equal(libPackageFor('win32', 'x64', false), undefined);
    const e = unsupportedPlatformError('win32', 'x64');
    assert.equal(e.code, 'unsupported-platform');
    assert.match(e.hint, /docker/);
  });
  test('fetchEngine on Windows refuses before any download', async () => {
    await assert.rejects(fetchEngine({ storageDir: tmp('ct-eng-'), chdbVersion: '3.4.0', platform: 'win32', arch: 'x64', registry: 'http://127.0.0.1:1' }),
      (e: unknown) => e instanceof StackError && e.code === 'unsupported-platform');
  });
  test('integrity: sha512 only, any of several', () => {
    assert.ok(integrityMatches('sha1-xx sha512-abc', 'abc'));
    assert.ok(!integrityMatches('sha1-abc', 'abc'));
  });
});

describe('locateEngine', () => {
  test('development checkout: node_modules next to the extension', () => {
    const loc = locateEngine({ extensionRoot: process.cwd(), storageDir: tmp('ct-eng-'), chdbVersion: '3.4.0' });
    assert.equal(loc?.source, 'extension');
  });
  test('nothing installed → undefined (fetch needed); a wrong setting is an error', () => {
    const root = tmp('ct-ext-');
    assert.equal(locateEngine({ extensionRoot: root, storageDir: root, chdbVersion: '3.4.0' }), undefined);
    assert.throws(() => locateEngine({ settingPath: root, extensionRoot: root, storageDir: root, chdbVersion: '3.4.0' }), /does not contain chdb/);
    assert.equal(locateEngine({ settingPath: process.cwd(), extensionRoot: root, storageDir: root, chdbVersion: '3.4.0' })?.source, 'setting');
  });
});

describe('tar reader', () => {
  test('unpacks GNU and pax archives with long names, modes and nested folders', async () => {
    for (const format of ['gnu', 'pax']) {
      const src = tmp('ct-tar-src-');
      const long = 'a'.repeat(120);
      mkdirSync(join(src, 'package', 'dist', long), { recursive: true });
      writeFileSync(join(src, 'package', 'package.json'), '{"name":"x"}');
      writeFileSync(join(src, 'package', 'dist', long, 'f.js'), 'y'.repeat(70_000));
      writeFileSync(join(src, 'package', 'bin.sh'), '#!/bin/sh\n', { mode: 0o755 });
      const tgz = join(tmp('ct-tgz-'), 'p.tgz');
      execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', src, 'package']);
      const out = tmp('ct-tar-out-');
      const r = await extractTgz(tgz, out);
      assert.equal(r.files, 3, format);
      assert.equal(readFileSync(join(out, 'package.json'), 'utf8'), '{"name":"x"}');
      assert.equal(statSync(join(out, 'dist', long, 'f.js')).size, 70_000);
      assert.ok(statSync(join(out, 'bin.sh')).mode & 0o100);
    }
  });
  test('a truncated archive is refused', async () => {
    const src = tmp('ct-tar-src-');
    mkdirSync(join(src, 'package'));
    writeFileSync(join(src, 'package', 'big.bin'), Buffer.alloc(300_000, 7));
    const tgz = join(tmp('ct-tgz-'), 'p.tgz');
    execFileSync('tar', ['-cf', tgz.replace('.tgz', '.tar'), '-C', src, 'package']);
    const tar = readFileSync(tgz.replace('.tgz', '.tar'));
    const { gzipSync } = await import('node:zlib');
    writeFileSync(tgz, gzipSync(tar.subarray(0, 100_000)));
    await assert.rejects(extractTgz(tgz, tmp('ct-tar-out-')), TarError);
  });
});

describe('the real npm registry', () => {
  test('plan for chdb: its runtime deps and the platform library, all with sha512 integrity', async () => {
    const plan = await planEngine(DEFAULT_REGISTRY, '3.4.0', '@chdb/lib-linux-x64-gnu');
    const names = plan.map((m) => m.name);
    assert.equal(names[0], 'chdb');
    assert.ok(names.includes('@clickhouse/client-common'), names.join());
    assert.equal(names.at(-1), '@chdb/lib-linux-x64-gnu');
    assert.ok(!names.includes('node-gyp-build'));
    for (const m of plan) assert.match(m.dist.integrity ?? '', /^sha512-/);
  });

  test('download + verify + unpack of the real chdb packages (without the 180 MB library)', async () => {
    const plan = (await planEngine(DEFAULT_REGISTRY, '3.4.0', '@chdb/lib-linux-x64-gnu')).filter((m) => !m.name.startsWith('@chdb/'));
    const final = engineDir(tmp('ct-eng-'), '3.4.0');
    const progress: string[] = [];
    await installPlan(plan, final, DEFAULT_REGISTRY, (p) => progress.push(p.message));
    assert.equal(JSON.parse(readFileSync(join(final, 'node_modules', 'chdb', 'package.json'), 'utf8')).version, '3.4.0');
    assert.ok(existsSync(join(final, 'node_modules', '@clickhouse', 'client-common', 'package.json')));
    assert.ok(existsSync(join(final, 'complete.json')));
    assert.ok(progress.some((m) => /Downloading chdb@3\.4\.0/.test(m)));
    assert.deepEqual(readdirSync(join(final, '..')).filter((n) => n.includes('staging')), []);
  });

  test('a corrupted download is rejected with a clear message and nothing is installed', async () => {
    const [chdb] = await planEngine(DEFAULT_REGISTRY, '3.4.0', '@chdb/lib-linux-x64-gnu');
    const bytes = Buffer.from(await (await fetch(chdb!.dist.tarball)).arrayBuffer());
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const srv = createServer((_req, res) => res.end(bytes));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const final = engineDir(tmp('ct-eng-'), '3.4.0');
      await assert.rejects(installPlan([{ ...chdb!, dist: { ...chdb!.dist, tarball: `http://127.0.0.1:${port}/chdb.tgz` } }], final, DEFAULT_REGISTRY), (e: unknown) => {
        assert.ok(e instanceof StackError);
        assert.match(e.message, /corrupt/);
        assert.match(e.hint, /Nothing was installed/);
        return true;
      });
      assert.equal(existsSync(final), false);
      assert.deepEqual(readdirSync(join(final, '..')), []);
    } finally {
      srv.close();
    }
  });
});
