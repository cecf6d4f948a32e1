// Engine fetch: pure parts and the real npm registry (metadata + the small chdb tarball), against the
// pins this build made from package-lock.json. Corruption is injected by a loopback server that serves
// the real tarball with one byte flipped — a fault the real registry cannot be made to cause. The
// refusals of a lying registry are in engine-pins.test.ts, the unpacking rules in tar-extract.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  installPlan, integrityMatches, libPackageFor, locateEngine, planEngine, unsupportedPlatformError, fetchEngine, DEFAULT_REGISTRY, engineDir, loadEnginePins,
} from '../../src/stack/engine';
import { StackError } from '../../src/stack/types';
import { tempDirsPerFile } from '../support/temp-dirs';

const tmp = tempDirsPerFile();
// The pins `npm run build` wrote (dist/engine-pins.json).
const pins = loadEnginePins();

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
    await assert.rejects(fetchEngine({ storageDir: tmp('ct-eng-'), chdbVersion: '3.4.0', pins, platform: 'win32', arch: 'x64', registry: 'http://127.0.0.1:1' }),
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

describe('the real npm registry', () => {
  test('plan for chdb: exactly the pinned packages, each with the pinned sha512', async () => {
    const plan = await planEngine(DEFAULT_REGISTRY, pins, '@chdb/lib-linux-x64-gnu');
    const names = plan.map((m) => m.name);
    assert.equal(names[0], 'chdb');
    assert.ok(names.includes('@clickhouse/client-common'), names.join());
    assert.equal(names.at(-1), '@chdb/lib-linux-x64-gnu');
    assert.ok(!names.includes('node-gyp-build'));
    for (const m of plan) {
      const pin = [...pins.packages, { name: '@chdb/lib-linux-x64-gnu', ...pins.platformLibs['@chdb/lib-linux-x64-gnu']! }].find((p) => p.name === m.name);
      assert.equal(m.version, pin?.version, m.name);
      assert.equal(m.integrity, pin?.integrity, m.name);
      assert.ok(m.pinned);
      assert.match(m.tarball, /^https:\/\/registry\.npmjs\.org\//);
    }
  });

  test('download + verify + unpack of the real chdb packages (without the 180 MB library)', async () => {
    const plan = (await planEngine(DEFAULT_REGISTRY, pins, '@chdb/lib-linux-x64-gnu')).filter((m) => !m.name.startsWith('@chdb/'));
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
    const [chdb] = await planEngine(DEFAULT_REGISTRY, pins, '@chdb/lib-linux-x64-gnu');
    const bytes = Buffer.from(await (await fetch(chdb!.tarball)).arrayBuffer());
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const srv = createServer((_req, res) => res.end(bytes));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const final = engineDir(tmp('ct-eng-'), '3.4.0');
      await assert.rejects(installPlan([{ ...chdb!, tarball: `http://127.0.0.1:${port}/chdb.tgz` }], final, DEFAULT_REGISTRY), (e: unknown) => {
        assert.ok(e instanceof StackError);
        assert.match(e.message, /corrupt.*pinned/);
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
