/** The webview side of the protocol: typed requests to the host, and push notifications from it. */
import type { QueryFailure } from '../core/analytics';
import type { HostToWebview, Method, Methods, PushMsg, RequestMsg } from './protocol';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export const vscode = acquireVsCodeApi();

/** A failed request: carries the host's explanation. */
export class RequestFailed extends Error {
  constructor(readonly failure: QueryFailure) {
    super(failure.message);
  }
}

let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
const listeners: ((m: PushMsg) => void)[] = [];

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'reply') {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new RequestFailed(m.failure));
  } else if (m.type === 'changed' || m.type === 'status') {
    for (const l of listeners) l(m);
  }
});

export function request<M extends Method>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']> {
  const id = nextId++;
  const msg: RequestMsg<M> = { type: 'request', id, method, params };
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    vscode.postMessage(msg);
  });
}

export function onPush(listener: (m: PushMsg) => void): void {
  listeners.push(listener);
}

/**
 * Wraps a view refresh so runs never overlap: a call while one runs asks for exactly one more
 * run after it, so bursts of pushes cost at most one extra reload and the newest data wins.
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let inflight = false;
  let again = false;
  const go = async (): Promise<void> => {
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    try {
      await run();
    } finally {
      inflight = false;
      if (again) {
        again = false;
        void go();
      }
    }
  };
  return go;
}
