/** What a view shows when it cannot read the store: what happened, what to do, and the buttons to do it. */
import type { QueryFailure } from '../core/analytics';
import { button, h } from './dom';
import { request } from './rpc';

export function failureView(f: QueryFailure): HTMLElement {
  // Starting the local stack cannot fix a read from the team server.
  const actions = f.kind === 'query' || f.source === 'team'
    ? [button('Show Logs', () => void request('command', { command: 'chapterTelemetry.showLogs' }))]
    : [
      button('Start', () => void request('command', { command: 'chapterTelemetry.start' })),
      button('Show Logs', () => void request('command', { command: 'chapterTelemetry.showLogs' }), 'secondary'),
    ];
  return h('div', { class: 'failure', role: 'alert', 'data-failure': f.kind },
    h('p', { class: 'failure-message' }, f.message),
    h('p', { class: 'failure-hint' }, f.hint),
    h('div', { class: 'actions' }, ...actions));
}

export function asFailure(e: unknown): QueryFailure {
  const f = (e as { failure?: QueryFailure }).failure;
  return f ?? { kind: 'query', message: 'The view could not load its data.', hint: 'Show Logs has details.', detail: String(e) };
}
