/**
 * Unpacks an npm tarball (the engine packages) under `dest`, the leading `package/` folder stripped.
 *
 * Why the `tar` package and not our own reader: it is the code npm itself unpacks every package with, so
 * its handling of the format's corners (pax and GNU long names, base-256 sizes, checksums, truncation) and
 * its path hardening (no `..`, absolute paths stripped, no writing through an existing symlink) are exercised
 * and maintained far beyond what a private reader here would be. On top of it we apply a stricter policy,
 * because an engine package has no business containing anything but files and folders:
 * - `strict: true`: every warning is an error (a bad checksum, a truncated archive, a stripped absolute path);
 * - any entry that is not a plain file or folder (symlink, hard link, device, fifo) refuses the archive;
 * - any path that is absolute, has a `..` segment or a backslash refuses the archive;
 * - declared sizes are capped per entry and in total, so a hostile header cannot fill the disk.
 * A refusal is a TarError; what was written so far stays under `dest`, which the caller deletes.
 */
import { mkdirSync } from 'node:fs';
import { extract, type ReadEntry } from 'tar';

export class TarError extends Error {
  override name = 'TarError';
}

export interface ExtractResult {
  files: number;
}

export interface ExtractLimits {
  /** Largest single file (default 2 GiB; the Linux engine library is ~550 MB). */
  maxEntryBytes?: number;
  /** Largest sum of file sizes (default 4 GiB). */
  maxTotalBytes?: number;
}

/** Why an entry makes the archive unacceptable, or undefined when it is a plain file or folder with a tame path. */
export function entryProblem(path: string, type: string): string | undefined {
  if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile' && type !== 'Directory') return `${path} is a ${type}, not a file or folder`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\')) return `${path} is an absolute or Windows path`;
  if (path.split('/').includes('..')) return `${path} climbs out of the package folder`;
  return undefined;
}

export async function extractTgz(file: string, dest: string, limits: ExtractLimits = {}): Promise<ExtractResult> {
  const maxEntry = limits.maxEntryBytes ?? 2 ** 31;
  const maxTotal = limits.maxTotalBytes ?? 2 ** 32;
  mkdirSync(dest, { recursive: true });
  let problem: string | undefined;
  let total = 0;
  let files = 0;
  const filter = (path: string, entry: ReadEntry | import('node:fs').Stats): boolean => {
    if (problem) return false;
    const e = entry as ReadEntry;
    problem = entryProblem(path, e.type);
    if (!problem && e.size > maxEntry) problem = `${path} declares ${e.size} bytes (more than ${maxEntry})`;
    total += e.size;
    if (!problem && total > maxTotal) problem = `the files add up to more than ${maxTotal} bytes`;
    if (problem) return false;
    if (e.type !== 'Directory') files++;
    return true;
  };
  try {
    await extract({ file, cwd: dest, strip: 1, strict: true, filter, preserveOwner: false });
  } catch (e) {
    // A refused entry is the better explanation than what the parser says about the bytes after it.
    if (problem) throw new TarError(`refused: ${problem}`);
    throw new TarError(`not a valid package archive (${(e as Error).message})`);
  }
  if (problem) throw new TarError(`refused: ${problem}`);
  if (files === 0) throw new TarError('the archive holds no files');
  return { files };
}
