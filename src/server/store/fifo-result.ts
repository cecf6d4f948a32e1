/**
 * A result the engine writes as one file (`INTO OUTFILE`: Parquet, Arrow, ORC, Avro), read while it is
 * being written: the file is a named pipe (FIFO) of ours, so the client gets the first row group while
 * the engine encodes the next, nothing goes to disk, and a slow client slows the engine (its write waits
 * for room in the pipe) instead of a file growing.
 *
 * The pipe is opened for reading before the statement starts (the engine's open for writing would block
 * without a reader) and kept open until the statement is over, also when the consumer stops early: what
 * the engine still writes is then read and dropped, so neither its open nor a write can block for ever.
 * A second, write-only descriptor of ours keeps the pipe from reading as ended before the engine opened
 * it; closing it once the statement is over lets the reader see the end.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

/** Makes an owner-only FIFO at `path`; false where the system has no `mkfifo` (the caller then uses a file). */
export function makeFifo(path: string): Promise<boolean> {
  if (process.platform === 'win32') return Promise.resolve(false);
  return new Promise((resolve) => execFile('mkfifo', ['-m', '600', path], (err) => resolve(!err)));
}

/**
 * Named pipes made once and used again: a pipe holds nothing once every descriptor on it is closed, and
 * readWhileWriting returns only after the statement is over and its own descriptors are closed. So a
 * streamed CSV pays for `mkfifo` (a process) only while more results stream at once than ever before.
 */
export class FifoPool {
  private readonly free: string[] = [];
  private unavailable = false;

  constructor(private readonly dir: string, private readonly keep = 8) {}

  /** A pipe of this pool's for one result, or undefined where pipes cannot be made. */
  async take(): Promise<string | undefined> {
    const ready = this.free.pop();
    if (ready || this.unavailable) return ready;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `${randomUUID()}.fifo`);
    if (await makeFifo(path)) return path;
    this.unavailable = true;
    return undefined;
  }

  /** Back after use; beyond `keep` idle pipes, removed. */
  give(path: string): void {
    if (this.free.length < this.keep) this.free.push(path);
    else rmSync(path, { force: true });
  }

  close(): void {
    for (const path of this.free.splice(0)) rmSync(path, { force: true });
  }
}

/**
 * Yields what `write()` (a statement writing into the FIFO at `path`) writes, as it writes it; after the
 * last bytes, throws the statement's error if it failed (so bytes already sent are followed by the error).
 */
export async function* readWhileWriting(path: string, write: () => Promise<unknown>, stop?: AbortSignal): AsyncGenerator<Buffer> {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let keeper: number | undefined;
  try {
    keeper = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    closeSync(readFd);
    throw err;
  }
  const closeKeeper = () => {
    if (keeper !== undefined) closeSync(keeper);
    keeper = undefined;
  };
  const pipe = new Socket({ fd: readFd, readable: true, writable: false });
  // Flowing mode with our own small queue (never a 'readable' listener, which would keep resume() from flowing):
  // paused while pieces wait for the consumer, so the engine's writes wait for room in the pipe.
  const queue: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  pipe.on('data', (piece: Buffer) => {
    queue.push(piece);
    if (queue.length >= 4) pipe.pause();
    signal();
  });
  pipe.on('end', () => {
    ended = true;
    signal();
  });
  // A read error ends the stream here; the statement's own outcome (over) then decides success or failure.
  pipe.on('error', () => {
    ended = true;
    signal();
  });
  let failure: { err: unknown } | undefined;
  const over = write().then(() => undefined, (err: unknown) => void (failure = { err })).finally(closeKeeper);
  // Whoever closes the engine stops every pipe: read and drop from now on (a closing engine waits for its
  // statements on the JavaScript thread, so an unread pipe would hold both for ever).
  const drain = () => {
    ended = true;
    queue.length = 0;
    pipe.removeAllListeners('data');
    pipe.on('data', () => undefined);
    pipe.resume();
    signal();
  };
  if (stop?.aborted) drain();
  else stop?.addEventListener('abort', drain, { once: true });
  let complete = false;
  try {
    for (;;) {
      const piece = queue.shift();
      if (piece) {
        if (pipe.isPaused() && queue.length < 2) pipe.resume();
        yield piece;
      } else if (ended) {
        break;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
    complete = true;
  } finally {
    // The consumer went away: read and drop what the engine still writes until the statement is over.
    if (!complete) drain();
    await over;
    stop?.removeEventListener('abort', drain);
    pipe.destroy();
    closeKeeper();
  }
  if (failure) throw failure.err;
}
