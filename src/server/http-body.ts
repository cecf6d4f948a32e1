/**
 * Reads a request body with limits that hold after decompression too: a small gzip bomb is
 * refused as 413 rather than inflated into memory.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new HttpError(413, `request body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  let source: NodeJS.ReadableStream = req;
  let inflater: Transform | undefined;
  if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
  else if (encoding === 'deflate') inflater = createInflate();
  else if (encoding !== 'identity' && encoding !== '') {
    req.resume();
    throw new HttpError(415, `unsupported Content-Encoding "${encoding}" (use gzip or none)`);
  }
  if (inflater) source = req.pipe(inflater);

  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        req.unpipe();
        req.resume();
        inflater?.destroy();
        throw new HttpError(413, `request body is over the ${maxBytes}-byte limit${inflater ? ' once decompressed' : ''}`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // A body that does not inflate stops the pipe half way: read the rest and drop it, or the connection stalls
    // (the next request on a kept-alive socket is never parsed) until the server's keep-alive timeout resets it.
    req.unpipe();
    req.resume();
    throw new HttpError(400, `could not read the request body: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, total);
}
