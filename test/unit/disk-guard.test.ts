/** The free-space guard's arithmetic (the real file system case is test/server/disk-full.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiskGuard, reserveFor } from '../../src/server/disk-guard';
import { StoreError } from '../../src/server/store/types';
import { parseArgs } from '../../src/server/config';

const MiB = 1024 * 1024;

test('the reserve is 1% of the file system, at least 2 MiB, at most 256 MiB, unless given', () => {
  assert.equal(reserveFor(3 * MiB), 2 * MiB);
  assert.equal(reserveFor(1000 * MiB), 10 * MiB);
  assert.equal(reserveFor(1024 * 1024 * MiB), 256 * MiB);
  assert.equal(reserveFor(1000 * MiB, 5 * MiB), 5 * MiB);
  assert.equal(reserveFor(1000 * MiB, 0), 0);
});

test('an insert is refused when it would leave less than the reserve; the refusal is retryable and says why', () => {
  const guard = new DiskGuard('/data', undefined, () => ({ available: 12 * MiB, total: 1000 * MiB }));
  guard.check(MiB); // 12 - 2×1 = 10 MiB left = the reserve
  assert.throws(() => guard.check(MiB + 1), (err: unknown) => {
    assert.ok(err instanceof StoreError);
    assert.equal(err.unavailable, true);
    assert.equal(err.clickhouseCode, 243);
    assert.match(err.message, /\/data is nearly full \(12\.0 MiB free, 10\.0 MiB is kept free\): nothing was stored/);
    return true;
  });
});

test('--min-free-mb 0 turns the guard off; other values are MiB', () => {
  const off = new DiskGuard('/data', parseArgs(['--min-free-mb', '0']).minFreeBytes, () => ({ available: 0, total: MiB }));
  off.check(10 * MiB);
  assert.equal(parseArgs(['--min-free-mb=1.5']).minFreeBytes, 1.5 * MiB);
  assert.equal(parseArgs([]).minFreeBytes, undefined);
  assert.throws(() => parseArgs(['--min-free-mb=-1']), /--min-free-mb must be a number of MiB/);
  assert.throws(() => parseArgs(['--min-free-mb', 'lots']), /--min-free-mb must be a number of MiB/);
});
