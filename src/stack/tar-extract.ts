/**
 * A small streaming reader for npm tarballs (gzip'd ustar, with pax and GNU long names):
 * enough to unpack the engine packages without a dependency. Entries are written under `dest`
 * with the leading `package/` folder stripped; anything that would escape `dest` is refused.
 */
import { closeSync, createReadStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';

export class TarError extends Error {
  override name = 'TarError';
}

function field(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function octal(b: Buffer, off: number, len: number): number {
  // Base-256 for huge values (GNU): high bit of the first byte set.
  if (b[off]! & 0x80) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = field(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === octal(h, 148, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(data.subarray(i, sp).toString('utf8'), 10);
    if (!len) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface ExtractResult {
  files: number;
  bytes: number;
}

/** Unpacks a .tgz file into `dest` (created). Throws TarError on a damaged or hostile archive. */
export async function extractTgz(file: string, dest: string, stripPrefix = 'package/'): Promise<ExtractResult> {
  const root = resolve(dest);
  mkdirSync(root, { recursive: true });
  let buf: Buffer = Buffer.alloc(0);
  let fd: number | undefined;
  let remaining = 0; // bytes of the current entry still to come
  let padding = 0;
  let collect: Buffer[] | undefined; // pax / long-name payloads
  let collectKind: string | undefined;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let ended = false;
  const result: ExtractResult = { files: 0, bytes: 0 };

  const target = (name: string): string | undefined => {
    let n = name.replace(/\\/g, '/');
    if (stripPrefix && n.startsWith(stripPrefix)) n = n.slice(stripPrefix.length);
    else if (stripPrefix) n = n.replace(/^[^/]+\//, ''); // some packages use another top folder
    if (!n || n.endsWith('/')) return undefined;
    const p = resolve(root, n);
    if (!p.startsWith(root + sep)) throw new TarError(`archive entry ${JSON.stringify(name)} points outside the target folder`);
    return p;
  };

  const finishEntry = () => {
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
      result.files++;
    }
    if (collect) {
      const data = Buffer.concat(collect);
      if (collectKind === 'x') pax = { ...pax, ...parsePax(data) };
      else if (collectKind === 'L') longName = field(data, 0, data.length);
      collect = undefined;
      collectKind = undefined;
    }
  };

  try {
    const gz = createReadStream(file).pipe(createGunzip());
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (!ended) {
        if (remaining > 0) {
          if (buf.length === 0) break;
          const n = Math.min(remaining, buf.length);
          const part = buf.subarray(0, n);
          if (fd !== undefined) writeSync(fd, part);
          else if (collect) collect.push(Buffer.from(part));
          result.bytes += n;
          remaining -= n;
          buf = buf.subarray(n);
          if (remaining === 0) finishEntry();
          continue;
        }
        if (padding > 0) {
          const n = Math.min(padding, buf.length);
          padding -= n;
          buf = buf.subarray(n);
          if (padding > 0) break;
          continue;
        }
        if (buf.length < 512) break;
        const h = buf.subarray(0, 512);
        buf = buf.subarray(512);
        if (h.every((x) => x === 0)) {
          ended = true;
          break;
        }
        if (!checksumOk(h)) throw new TarError('a tar header checksum does not match (the archive is damaged)');
        const type = String.fromCharCode(h[156] || 0x30);
        const size = octal(h, 124, 12);
        const prefix = field(h, 345, 155);
        let name = field(h, 0, 100);
        if (prefix && field(h, 257, 6).startsWith('ustar')) name = `${prefix}/${name}`;
        if (longName) name = longName;
        if (pax.path) name = pax.path;
        // A pax size applies to the entry that follows it (files over 8 GiB).
        const entrySize = type !== 'x' && type !== 'L' && pax.size ? Number(pax.size) : size;
        padding = (512 - (entrySize % 512)) % 512;
        remaining = entrySize;
        if (type === 'x' || type === 'L') {
          collect = [];
          collectKind = type;
        } else {
          pax = {};
          longName = undefined;
          if (type === '0' || type === '7') {
            const p = target(name);
            if (p) {
              mkdirSync(dirname(p), { recursive: true });
              const mode = octal(h, 100, 8) & 0o111 ? 0o755 : 0o644;
              fd = openSync(p, 'w', mode);
            }
          } else if (type === '5') {
            const p = target(`${name.replace(/\/$/, '')}/x`);
            if (p) mkdirSync(dirname(p), { recursive: true });
          }
          // Links, devices, global pax ('g'): npm packages do not need them; their data is skipped.
        }
        if (remaining === 0) finishEntry();
      }
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (remaining > 0 || (!ended && result.files === 0)) throw new TarError('the archive ends in the middle of a file (the download is incomplete)');
  return result;
}

