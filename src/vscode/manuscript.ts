/**
 * Manuscript progress for the Chapters panel: words per chapter from the workspace's text files and
 * words added per day from git. The counting runs in a worker thread (dist/manuscript-worker.js) and
 * is incremental: the first request counts every manuscript file once; afterwards a FileSystemWatcher
 * marks the files that changed, and only those are counted again. The git history is read at most
 * once per HISTORY_MS (and again when a file changed). Nothing starts before a panel asks.
 */
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { wordsByChapter, type FileChange, type FileWords } from '../core/manuscript';
import { TEXT_EXTENSIONS } from '../core/words';
import type { WorkerRequest } from '../manuscript/worker';

const GLOB = `**/*.{${TEXT_EXTENSIONS.join(',')}}`;
const EXCLUDE = '**/{node_modules,.git,dist,build,.docusaurus}/**';
const MAX_FILES = 20_000;
const CHUNK = 200;
const HISTORY_MS = 60_000;

export interface ManuscriptSnapshot {
  /** Words per chapter now. */
  words: Record<string, number>;
  /** Every change to a chapter file in git history (all folders); undefined when no folder is a git repository. */
  changes: FileChange[] | undefined;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

export class ManuscriptCounter implements vscode.Disposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly files = new Map<string, FileWords>();
  private readonly dirty = new Set<string>();
  private scanned = false;
  private watcher: vscode.FileSystemWatcher | undefined;
  private history: { at: number; changes: FileChange[] | undefined } | undefined;
  private patternsKey = '';

  constructor(private readonly workerPath: string, private readonly patterns: () => string[], private readonly log: (l: string) => void) {}

  private call<T>(req: WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never): Promise<T> {
    if (!this.worker) {
      const w = new Worker(this.workerPath);
      w.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(m.error));
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', () => {
        this.worker = undefined;
        this.failAll(new Error('the manuscript counter stopped'));
      });
      w.unref();
      this.worker = w;
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage({ ...req, id });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private watch(): void {
    if (this.watcher) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    const mark = (u: vscode.Uri) => {
      this.dirty.add(u.toString());
      this.history = undefined;
    };
    this.watcher.onDidChange(mark);
    this.watcher.onDidCreate(mark);
    this.watcher.onDidDelete((u) => {
      this.files.delete(u.toString());
      this.dirty.delete(u.toString());
      this.history = undefined;
    });
  }

  /** Current words per chapter and the git history, counting only what changed since the last call. */
  async snapshot(): Promise<ManuscriptSnapshot> {
    const patterns = this.patterns();
    const key = JSON.stringify(patterns);
    if (key !== this.patternsKey) {
      // Other patterns put files into other chapters: everything is counted afresh.
      this.patternsKey = key;
      this.scanned = false;
      this.files.clear();
      this.history = undefined;
    }
    this.watch();
    if (!this.scanned) {
      for (const u of await vscode.workspace.findFiles(GLOB, EXCLUDE, MAX_FILES)) this.dirty.add(u.toString());
      this.scanned = true;
    }
    const todo = [...this.dirty].map((s) => vscode.Uri.parse(s)).filter((u) => u.scheme === 'file' && vscode.workspace.getWorkspaceFolder(u));
    this.dirty.clear();
    for (let i = 0; i < todo.length; i += CHUNK) {
      const part = todo.slice(i, i + CHUNK).map((u) => ({ abs: u.fsPath, rel: vscode.workspace.asRelativePath(u, false), key: u.toString() }));
      const counted = await this.call<{ rel: string; chapter: string | undefined; words: number }[]>({ op: 'count', files: part.map(({ abs, rel }) => ({ abs, rel })), patterns });
      counted.forEach((c, j) => this.files.set(part[j]!.key, { path: c.rel, chapter: c.chapter, words: c.words }));
    }
    if (!this.history || Date.now() - this.history.at > HISTORY_MS) {
      let changes: FileChange[] | undefined;
      // Like VS Code's own git support, no git runs in a folder the author has not trusted (a cloned repository's
      // .git/config is the repository's to write); counts of the files on disk still show.
      for (const f of vscode.workspace.isTrusted ? vscode.workspace.workspaceFolders ?? [] : []) {
        if (f.uri.scheme !== 'file') continue;
        try {
          const c = await this.call<FileChange[] | null>({ op: 'history', folder: f.uri.fsPath, patterns });
          if (c) changes = [...(changes ?? []), ...c];
        } catch (e) {
          this.log(`manuscript: git history of ${f.name} not read (${(e as Error).message})`);
        }
      }
      this.history = { at: Date.now(), changes };
    }
    return { words: Object.fromEntries(wordsByChapter(this.files.values())), changes: this.history.changes };
  }

  dispose(): void {
    this.watcher?.dispose();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
