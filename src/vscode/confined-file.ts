/**
 * Reading and writing a file inside a workspace folder without ever leaving it. A repository can
 * ship `.claude` (or `.claude/settings.local.json`) as a symbolic link to `~/.claude/settings.json`;
 * following it would merge our env block into the author's global Claude settings. So every
 * component below the folder is lstat'ed and a link refuses the operation; writes go to a temp
 * file in the same folder, renamed over the target (rename replaces a link, never follows it);
 * and the parent's real path is checked again right before the rename. No `vscode` import: the
 * unit tier tests it on a real file system.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export class ConfinedPathError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path} ${reason}; Chapter Telemetry only writes real files inside the workspace folder, so it left it alone.`);
    this.name = 'ConfinedPathError';
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await fs.lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Checks `root/rel` component by component: no component may be a link; every parent must be a
 * directory and the last one (if it exists) a regular file. Returns whether the file exists.
 */
async function check(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.')) throw new ConfinedPathError(rel, 'is not a plain relative path');
  let p = root;
  for (const [i, part] of parts.entries()) {
    p = join(p, part);
    const st = await lstatOrUndefined(p);
    if (!st) return false;
    if (st.isSymbolicLink()) throw new ConfinedPathError(p, 'is a symbolic link');
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) throw new ConfinedPathError(p, 'is not a folder');
    if (last && !st.isFile()) throw new ConfinedPathError(p, 'is not a regular file');
  }
  return true;
}

/** The file's text, or undefined when it does not exist. Refuses links anywhere below `root`. */
export async function readConfined(root: string, rel: string): Promise<string | undefined> {
  if (!(await check(root, rel))) return undefined;
  // O_NOFOLLOW: a link swapped in after the check fails the open instead of being followed.
  const h = await fs.open(join(root, rel), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    return await h.readFile('utf8');
  } finally {
    await h.close();
  }
}

/** Writes `text` to `root/rel` through a temp file and a rename; creates missing folders (never through links). */
export async function writeConfined(root: string, rel: string, text: string): Promise<void> {
  const exists = await check(root, rel);
  const target = join(root, rel);
  const dir = dirname(target);
  if (!exists) {
    // Create the missing folders one by one, re-checking: mkdir never follows a link, but a link could appear.
    let p = root;
    for (const part of relative(root, dir).split(sep).filter(Boolean)) {
      p = join(p, part);
      await fs.mkdir(p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
    await check(root, rel);
  }
  const mode = exists ? (await fs.lstat(target)).mode & 0o777 : 0o644;
  const tmp = join(dir, `.${rel.split('/').pop()}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': create only; a name someone prepared (a link) makes this fail rather than write through it.
  await fs.writeFile(tmp, text, { flag: 'wx', mode });
  try {
    const [realRoot, realDir] = await Promise.all([fs.realpath(root), fs.realpath(dir)]);
    if (realDir !== join(realRoot, relative(root, dir))) throw new ConfinedPathError(dir, 'now leads outside the workspace folder');
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Deletes `root/rel` (a link is refused, not deleted: we never created it). */
export async function removeConfined(root: string, rel: string): Promise<void> {
  if (await check(root, rel)) await fs.unlink(join(root, rel));
}
