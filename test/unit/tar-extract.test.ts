// Unpacking the engine tarballs (src/stack/tar-extract.ts, the `tar` package under a stricter policy):
// real archives made by GNU tar unpack; hostile archives written header by header are refused as a
// whole and nothing lands outside the target folder.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractTgz, TarError } from '../../src/stack/tar-extract';
import { tarBytes, tgzBytes, type TarEntry } from '../support/tar-build';
import { tempDirsPerFile } from '../support/temp-dirs';

const tmp = tempDirsPerFile();

/** A root folder with the target nested two levels down, so `../..` from the target stays inside root. */
function sandbox(): { root: string; dest: string; file: (b: Buffer) => string } {
  const root = tmp('ct-tar-');
  const dest = join(root, 'a', 'b', 'out');
  return { root, dest, file: (b) => { const f = join(root, 'p.tgz'); writeFileSync(f, b); return f; } };
}

/** Every path under `dir` (relative), links not followed. */
function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return lstatSync(p).isDirectory() ? [prefix + n + '/', ...tree(p, prefix + n + '/')] : [prefix + n];
  });
}

describe('tar: well-formed archives', () => {
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

  test('the hand-written archives of the hostile cases unpack when they are tame (the refusals below are not format errors)', async () => {
    const s = sandbox();
    await extractTgz(s.file(tgzBytes([{ path: 'package/', type: '5' }, { path: 'package/ok.txt', data: 'fine' }])), s.dest);
    assert.deepEqual(tree(s.root), ['a/', 'a/b/', 'a/b/out/', 'a/b/out/ok.txt', 'p.tgz']);
  });
});

describe('tar: hostile archives are refused and nothing lands outside the target', () => {
  const cases: Array<[string, TarEntry[], RegExp]> = [
    ['a ../ path', [{ path: 'package/../../escaped.txt', data: 'x' }], /climbs out/],
    ['a ../ path in the middle', [{ path: 'package/sub/../../../escaped.txt', data: 'x' }], /climbs out/],
    ['an absolute path', [{ path: `${tmpdir()}/ct-tar-absolute-${process.pid}.txt`, data: 'x' }], /absolute/],
    ['a symlink out of the target', [{ path: 'package/link', type: '2', linkTarget: '../..' }], /SymbolicLink/],
    ['a symlink, then a file written through it', [
      { path: 'package/link', type: '2', linkTarget: '../../..' },
      { path: 'package/link/through.txt', data: 'x' },
    ], /SymbolicLink/],
    ['a hard link to a file outside', [{ path: 'package/hl', type: '1', linkTarget: '/etc/passwd' }], /Link/],
    ['a header claiming 7 GiB', [{ path: 'package/huge.bin', data: 'small', declaredSize: 7 * 2 ** 30 }], /declares/],
  ];
  for (const [name, entries, why] of cases) {
    test(name, async () => {
      const s = sandbox();
      const outside = join(tmpdir(), `ct-tar-absolute-${process.pid}.txt`);
      await assert.rejects(extractTgz(s.file(tgzBytes([{ path: 'package/', type: '5' }, ...entries])), s.dest), (e: unknown) => {
        assert.ok(e instanceof TarError, String(e));
        assert.match(e.message, why);
        return true;
      });
      const left = tree(s.root).filter((p) => (p === 'a/b/out/' || !p.startsWith('a/b/out/')) && p !== 'p.tgz');
      assert.deepEqual(left, ['a/', 'a/b/', 'a/b/out/']);
      assert.equal(existsSync(outside), false);
      assert.deepEqual(tree(s.dest).filter((p) => /link|hl|escaped|through|huge/.test(p)), []);
    });
  }

  test('files adding up to more than the total limit', async () => {
    const s = sandbox();
    const entries = [1, 2, 3].map((i) => ({ path: `package/f${i}.bin`, data: Buffer.alloc(40_000, i) }));
    await assert.rejects(extractTgz(s.file(tgzBytes(entries)), s.dest, { maxTotalBytes: 100_000 }), /add up to more than 100000/);
    assert.equal(existsSync(join(s.dest, 'f3.bin')), false);
  });

  test('a truncated archive (data cut mid-file)', async () => {
    const s = sandbox();
    const whole = tarBytes([{ path: 'package/big.bin', data: Buffer.alloc(300_000, 7) }]);
    await assert.rejects(extractTgz(s.file(gzipSync(whole.subarray(0, 100_000))), s.dest), TarError);
  });

  test('a truncated gzip stream', async () => {
    const s = sandbox();
    const gz = tgzBytes([{ path: 'package/big.bin', data: Buffer.alloc(300_000, 7) }]);
    await assert.rejects(extractTgz(s.file(gz.subarray(0, gz.length - 40)), s.dest), TarError);
  });

  test('a header with a bad checksum', async () => {
    const s = sandbox();
    const raw = tarBytes([{ path: 'package/a.txt', data: 'x' }]);
    raw[0] = 'q'.charCodeAt(0);
    await assert.rejects(extractTgz(s.file(gzipSync(raw)), s.dest), TarError);
  });

  test('not an archive at all', async () => {
    const s = sandbox();
    await assert.rejects(extractTgz(s.file(Buffer.from('<html>proxy login</html>')), s.dest), TarError);
  });
});
