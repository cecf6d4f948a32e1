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
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';

/** Makes an owner-only FIFO at `path`; false where the system has no `mkfifo` (the caller then uses a file). */
export function makeFifo(path: string): Promise<boolean> {
  if (process.platform === 'win32') return Promise.resolve(false);
  return new Promise((resolve) => execFile('mkfifo', ['-m', '600', path], (err) => resolve(!err)));
}

/**
 * Yields what `write()` (a statement writing into the FIFO at `path`) writes, as it writes it; after the
 * last bytes, throws the statement's error if it failed (so bytes already sent are followed by the error).
 */
export async function* readWhileWriting(path: string, write: () => Promise<unknown>): AsyncGenerator<Buffer> {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let keeper: number | undefined = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const closeKeeper = () => {
    if (keeper !== undefined) closeSync(keeper);
    keeper = undefined;
  };
  const pipe = new Socket({ fd: readFd, readable: true, writable: false });
  pipe.on('error', () => undefined);
  let failure: { err: unknown } | undefined;
  const over = write().then(() => undefined, (err: unknown) => void (failure = { err })).finally(closeKeeper);
  let complete = false;
  try {
    // Not destroyed on an early return: the engine may still have to open the pipe or write into it.
    for await (const piece of pipe.iterator({ destroyOnReturn: false })) yield piece as Buffer;
    complete = true;
  } finally {
    if (!complete) {
      pipe.on('data', () => undefined);
      pipe.resume();
    }
    await over;
    pipe.destroy();
    closeKeeper();
  }
  if (failure) throw failure.err;
}
