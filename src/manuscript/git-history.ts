/**
 * Words added per commit, from a workspace folder's git history: `git log --name-status` lists each
 * commit's changed manuscript files (paths relative to the folder, first parent, merges skipped since
 * their changes are counted in the commits they bring), and `git cat-file --batch` hands back each
 * file's text before and after, counted by the manuscript rule (src/core/words.ts). `git` comes from
 * PATH; no git or no repository → undefined (the caller shows current counts only).
 *
 * Runs `git` with fixed arguments only (never a shell, never a value from the repository on a command
 * line except as a path after `--` or on cat-file's stdin), and with the repository's own config unable
 * to run programs: no pager, no fsmonitor hook, no signature check (and --name-status runs no diff driver).
 */
import { spawn } from 'node:child_process';
import type { FileChange } from '../core/manuscript';
import { countWords, textKind } from '../core/words';

const SAFE = ['-c', 'core.quotepath=off', '-c', 'core.fsmonitor=false', '-c', 'log.showSignature=false'];

function git(cwd: string, args: string[], input?: string): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };
    const child = spawn('git', [...SAFE, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => resolve({ code: -1, out: Buffer.alloc(0), err: e.message }));
    child.once('close', (code) => resolve({ code, out: Buffer.concat(chunks), err }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

interface Touched {
  commit: string;
  parent: string | undefined;
  timeMs: number;
  status: string;
  path: string;
}

/** Parses `git log --format=%x01%H%x09%P%x09%at --name-status` output. */
export function parseLog(text: string): Touched[] {
  const out: Touched[] = [];
  let cur: { commit: string; parent: string | undefined; timeMs: number } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('\u0001')) {
      const [commit, parents, at] = line.slice(1).split('\t');
      cur = { commit: commit!, parent: parents?.split(' ').filter(Boolean)[0], timeMs: Number(at) * 1000 };
      continue;
    }
    if (!cur || line === '') continue;
    const [status, path] = line.split('\t');
    if (!status || !path || path.startsWith('"')) continue;
    out.push({ ...cur, status: status[0]!, path });
  }
  return out;
}

/** Reads blobs `rev:path` through one `git cat-file --batch`; a missing one is undefined. */
async function readBlobs(cwd: string, specs: string[]): Promise<(string | undefined)[]> {
  if (specs.length === 0) return [];
  const r = await git(cwd, ['cat-file', '--batch'], specs.map((s) => `${s}\n`).join(''));
  const out: (string | undefined)[] = [];
  let pos = 0;
  const buf = r.out;
  for (let i = 0; i < specs.length; i++) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString();
    pos = nl + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!m) {
      out.push(undefined); // "<spec> missing" / "ambiguous"
      continue;
    }
    const size = Number(m[2]);
    out.push(m[1] === 'blob' ? buf.subarray(pos, pos + size).toString('utf8') : undefined);
    pos += size + 1;
  }
  return out;
}

const BATCH = 400;

/**
 * Every change a commit made to a chapter's manuscript file, with words before and after.
 * `chapterOf` maps a folder-relative path to its chapter (undefined = not a chapter file).
 */
export async function gitWordChanges(folder: string, chapterOf: (relPath: string) => string | undefined, sinceMs?: number): Promise<FileChange[] | undefined> {
  const inside = await git(folder, ['rev-parse', '--is-inside-work-tree']);
  if (inside.code !== 0 || inside.out.toString().trim() !== 'true') return undefined;
  const args = ['log', '--no-renames', '--first-parent', '--no-merges', '--relative', '--format=%x01%H%x09%P%x09%at', '--name-status'];
  if (sinceMs !== undefined) args.push(`--since=${Math.floor(sinceMs / 1000)}`);
  const log = await git(folder, [...args, '--', '.']);
  if (log.code !== 0) return log.err.includes('does not have any commits') ? [] : undefined;
  const touched = parseLog(log.out.toString('utf8')).flatMap((t) => {
    const kind = textKind(t.path);
    const chapter = kind ? chapterOf(t.path) : undefined;
    return kind && chapter !== undefined ? [{ ...t, kind, chapter }] : [];
  });
  // Paths are relative to the folder; cat-file wants them relative to the repository root (`rev:./path` means the cwd).
  const changes: FileChange[] = [];
  for (let i = 0; i < touched.length; i += BATCH) {
    const part = touched.slice(i, i + BATCH);
    const specs: string[] = [];
    for (const t of part) {
      specs.push(t.status === 'A' || !t.parent ? '' : `${t.parent}:./${t.path}`);
      specs.push(t.status === 'D' ? '' : `${t.commit}:./${t.path}`);
    }
    const wanted = specs.filter((s) => s !== '');
    const blobs = await readBlobs(folder, wanted);
    let k = 0;
    const words = specs.map((s, j) => {
      if (s === '') return 0;
      const text = blobs[k++];
      return text === undefined ? 0 : countWords(text, part[Math.floor(j / 2)]!.kind);
    });
    part.forEach((t, j) => changes.push({ timeMs: t.timeMs, chapter: t.chapter, before: words[2 * j]!, after: words[2 * j + 1]! }));
  }
  return changes;
}
