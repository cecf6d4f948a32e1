// The controller's backend subscriptions: when the settings change and a new backend replaces the old one, the old
// backend's exit (its server dying later) must neither reach the controller nor keep a listener on the old backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSubscriptions } from '../../src/vscode/backend-subscriptions';
import { StackError, type StackBackend } from '../../src/stack/types';

/** A backend whose log and exit events the test fires by hand; counts live listeners. */
function backend(): StackBackend & { exit(e: StackError): void; log(l: string): void; listeners(): number } {
  const exits = new Set<(e: StackError) => void>();
  const logs = new Set<(l: string) => void>();
  return {
    mode: 'embedded',
    status: async () => ({ state: 'stopped' }),
    start: async () => ({ state: 'stopped' }),
    stop: async () => undefined,
    writerCredentials: async () => undefined,
    configureForwarding: async () => undefined,
    forwardStatus: async () => ({ state: 'off', local_rows: 0, delivered_rows: 0, queue_rows: 0 }),
    pullBack: async () => { throw new Error('not in this test'); },
    onLog: (l) => (logs.add(l), { dispose: () => logs.delete(l) }),
    onUnexpectedExit: (l: (e: StackError) => void) => (exits.add(l), { dispose: () => exits.delete(l) }),
    exit: (e: StackError) => [...exits].forEach((l) => l(e)),
    log: (line: string) => [...logs].forEach((l) => l(line)),
    listeners: () => exits.size + logs.size,
  } as StackBackend & { exit(e: StackError): void; log(l: string): void; listeners(): number };
}

test("a replaced backend's exit and log lines no longer reach the controller", () => {
  const failures: string[] = [];
  const lines: string[] = [];
  const subs = new BackendSubscriptions();
  const old = backend();
  const next = backend();
  subs.attach(old, (l) => lines.push(l), (e) => failures.push(e.message));
  old.log('old line');
  subs.attach(next, (l) => lines.push(l), (e) => failures.push(e.message));
  assert.equal(old.listeners(), 0, 'the old backend keeps no listener');
  old.exit(new StackError('crashed', 'old server died', 'x'));
  old.log('late old line');
  assert.deepEqual(failures, []);
  next.exit(new StackError('crashed', 'new server died', 'x'));
  next.log('new line');
  assert.deepEqual(failures, ['new server died']);
  assert.deepEqual(lines, ['old line', 'new line']);
});

test('detach (the switch stopped the backend) drops every subscription', () => {
  const failures: string[] = [];
  const subs = new BackendSubscriptions();
  const b = backend();
  subs.attach(b, () => undefined, (e) => failures.push(e.message));
  subs.detach();
  b.exit(new StackError('crashed', 'died', 'x'));
  assert.equal(b.listeners(), 0);
  assert.deepEqual(failures, []);
});
