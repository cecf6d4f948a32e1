/**
 * fifo-result.ts with a real named pipe and a writer in this process standing in for the engine: what is
 * written arrives in order and ends when the writer is done; a writer's failure comes after its bytes; a
 * consumer that stops early neither blocks the writer (its open or its writes) nor returns before it is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFifo, readWhileWriting } from '../../src/server/store/fifo-result';

async function fifo(): Promise<{ path: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-fifo-'));
  const path = join(dir, 'out');
  assert.ok(await makeFifo(path), 'mkfifo works on this system');
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `pieces` pieces of `size` bytes (byte value = piece number) into the pipe, as the engine would. */
async function writer(path: string, pieces: number, size: number, failAfter?: number): Promise<number> {
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < pieces; i++) {
      if (failAfter === i) throw new Error('engine failed mid-way');
      await fh.write(Buffer.alloc(size, i % 256));
    }
  } finally {
    await fh.close();
  }
  return pieces;
}

test('all bytes in order, ending when the writer is done', async () => {
  const f = await fifo();
  try {
    const got: Buffer[] = [];
    for await (const piece of readWhileWriting(f.path, () => writer(f.path, 40, 100_000))) got.push(piece);
    const all = Buffer.concat(got);
    assert.equal(all.length, 4_000_000);
    for (let i = 0; i < 40; i++) assert.equal(all[i * 100_000 + 99_999], i, `piece ${i}`);
  } finally {
    f.cleanup();
  }
});

test("the writer's failure is thrown after the bytes it wrote", async () => {
  const f = await fifo();
  try {
    let bytes = 0;
    await assert.rejects(async () => {
      for await (const piece of readWhileWriting(f.path, () => writer(f.path, 10, 100_000, 5))) bytes += piece.length;
    }, /engine failed mid-way/);
    assert.equal(bytes, 500_000);
  } finally {
    f.cleanup();
  }
});

test('a writer failing before it opens the pipe: no bytes, its error', async () => {
  const f = await fifo();
  try {
    const it = readWhileWriting(f.path, () => Promise.reject(new Error('syntax error')));
    await assert.rejects(it.next(), /syntax error/);
  } finally {
    f.cleanup();
  }
});

test('a consumer stopping early: the writer still writes everything (never blocks), and the return waits for it', async () => {
  const f = await fifo();
  try {
    let outcome = 'running';
    // Far more than a pipe holds: with nobody reading, the writer would block for ever. Its bytes are read and
    // dropped rather than the pipe broken under it (a broken pipe is a signal the engine's process may not expect).
    const write = () => writer(f.path, 200, 100_000).then(() => (outcome = 'wrote all'), (e: Error) => (outcome = e.message));
    for await (const piece of readWhileWriting(f.path, write)) {
      assert.ok(piece.length > 0);
      break;
    }
    assert.equal(outcome, 'wrote all', 'the early return came back only once the writer was over');
  } finally {
    f.cleanup();
  }
});

test('a writer opening the pipe late, its consumer gone by its first piece: neither side blocks', async () => {
  const f = await fifo();
  try {
    let release!: () => void;
    const opened = new Promise<void>((r) => (release = r));
    let finished = false;
    const write = async () => {
      await opened;
      await writer(f.path, 50, 100_000);
      finished = true;
    };
    const it = readWhileWriting(f.path, write);
    const first = it.next();
    // The consumer asks to stop while the first read still waits; the writer opens only afterwards.
    const returned = (async () => {
      await it.return(undefined).catch(() => undefined);
    })();
    release();
    await first.catch(() => undefined);
    await returned;
    assert.equal(finished, true);
  } finally {
    f.cleanup();
  }
});

test('a stop signal drains the pipe even while its consumer is not pulling', async () => {
  const f = await fifo();
  try {
    let outcome = 'running';
    const stop = new AbortController();
    const write = () => writer(f.path, 200, 100_000).then(() => (outcome = 'wrote all'), (e: Error) => (outcome = e.message));
    const it = readWhileWriting(f.path, write, stop.signal);
    assert.ok(((await it.next()).value?.length ?? 0) > 0);
    // The consumer holds on to the stream without pulling; the writer fills the pipe and waits, until the stop.
    stop.abort();
    for (let r = await it.next(); !r.done; r = await it.next()) void r;
    assert.equal(outcome, 'wrote all');
  } finally {
    f.cleanup();
  }
});
