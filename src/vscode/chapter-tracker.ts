/** Follows the active editor and turns its file into the chapter in focus (core does the matching). */
import * as vscode from 'vscode';
import { ChapterState, compileChapterPatterns } from '../core/chapter';
import { boundedRegexExec } from './bounded-regex';

export interface ChapterChange {
  chapter: string | undefined;
  /** Workspace-relative path of the file that caused it (undefined for a manual change). */
  file?: string;
  folder?: vscode.WorkspaceFolder;
}

export class ChapterTracker implements vscode.Disposable {
  readonly state: ChapterState;
  private readonly emitter = new vscode.EventEmitter<ChapterChange>();
  readonly onDidChange = this.emitter.event;
  private readonly subs: vscode.Disposable[] = [];
  /** The last file seen in a chapter, for the focus record. */
  lastFile: string | undefined;
  lastFolder: vscode.WorkspaceFolder | undefined;

  constructor(patterns: string[], private readonly warn: (msg: string) => void) {
    this.state = new ChapterState(this.compile(patterns), (source) =>
      this.warn(`Chapter pattern /${source}/ took too long on a file name and is no longer used (it could freeze the editor). Simplify it in the chapterTelemetry.chapterPatterns setting.`), boundedRegexExec);
    this.subs.push(vscode.window.onDidChangeActiveTextEditor((e) => this.observe(e?.document.uri)));
    this.observe(vscode.window.activeTextEditor?.document.uri);
  }

  setPatterns(patterns: string[]): void {
    this.state.setPatterns(this.compile(patterns));
    this.observe(vscode.window.activeTextEditor?.document.uri);
  }

  private compile(patterns: string[]): RegExp[] {
    const c = compileChapterPatterns(patterns);
    for (const i of c.invalid) this.warn(`Chapter pattern ${JSON.stringify(i.pattern)} is ignored: ${i.reason}. Fix it in the chapterTelemetry.chapterPatterns setting.`);
    return c.patterns;
  }

  observe(uri: vscode.Uri | undefined): void {
    // Only real documents: output channels, settings editors etc. must not move the chapter.
    if (!uri || !['file', 'vscode-remote'].includes(uri.scheme)) return;
    // Only files inside a workspace folder: a file elsewhere (a download, ~/notes) must not name the chapter
    // after its folder, and its absolute path (home folder, user name) must never reach a focus record.
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return;
    const rel = vscode.workspace.asRelativePath(uri, false);
    const changed = this.state.observe(rel);
    if (this.state.current !== undefined && !this.state.isManual) {
      this.lastFile = rel;
      this.lastFolder = folder;
    }
    if (changed) this.emitter.fire({ chapter: this.state.current, file: rel, folder });
  }

  setManual(chapter: string | undefined): void {
    if (this.state.setManual(chapter)) this.emitter.fire({ chapter: this.state.current });
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}
