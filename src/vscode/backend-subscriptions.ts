/**
 * The controller's subscriptions to its current backend (log lines, unexpected exit). A replaced
 * or dropped backend's subscriptions are disposed, and its events are ignored even if one is
 * already on its way: a server the old backend started must not turn the new one to Error.
 * No `vscode` import, so the unit tier tests it.
 */
import type { StackBackend, StackError } from '../stack/types';

type Disposable = { dispose(): void };
type WithExit = StackBackend & { onUnexpectedExit?: (listener: (e: StackError) => void) => Disposable };

export class BackendSubscriptions {
  private current: StackBackend | undefined;
  private subs: Disposable[] = [];

  /** Subscribes to `backend` (dropping the previous one's subscriptions) and returns it. */
  attach<B extends StackBackend>(backend: B, onLog: (line: string) => void, onExit: (e: StackError) => void): B {
    this.detach();
    this.current = backend;
    this.subs.push(backend.onLog((l) => {
      if (this.current === backend) onLog(l);
    }));
    const exit = (backend as WithExit).onUnexpectedExit?.((e) => {
      if (this.current === backend) onExit(e);
    });
    if (exit) this.subs.push(exit);
    return backend;
  }

  detach(): void {
    for (const s of this.subs) s.dispose();
    this.subs = [];
    this.current = undefined;
  }
}
