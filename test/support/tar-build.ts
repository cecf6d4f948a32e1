// Writes ustar archives entry by entry, for the hostile archives no well-behaved tool will make
// (`..` paths, absolute paths, links out of the target, sizes the data does not back).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  path: string;
  /** '0' file (default), '5' folder, '2' symlink, '1' hard link. */
  type?: '0' | '1' | '2' | '5';
  data?: string | Buffer;
  linkTarget?: string;
  /** Size written in the header when it should differ from the data (a lying header). */
  declaredSize?: number;
  mode?: number;
}

function put(h: Buffer, off: number, len: number, s: string): void {
  h.write(s, off, len, 'utf8');
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(e.path) > 100) throw new Error(`tar-build: path longer than 100 bytes: ${e.path}`);
  put(h, 0, 100, e.path);
  put(h, 100, 8, `${(e.mode ?? (e.type === '5' ? 0o755 : 0o644)).toString(8).padStart(7, '0')}\0`);
  put(h, 108, 8, '0000000\0');
  put(h, 116, 8, '0000000\0');
  put(h, 124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  put(h, 136, 12, `${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`);
  put(h, 156, 1, e.type ?? '0');
  if (e.linkTarget) put(h, 157, 100, e.linkTarget);
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The uncompressed archive: headers, data padded to 512 bytes, two zero blocks. */
export function tarBytes(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(header(e, e.declaredSize ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function tgzBytes(entries: TarEntry[]): Buffer {
  return gzipSync(tarBytes(entries));
}

/** npm's SRI string for bytes. */
export function sri(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}
