import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorForExit } from '../../src/stack/embedded';

const o = { dataDir: '/d', endpoints: { host: '127.0.0.1', grpcPort: 4317, otlpHttpPort: 4318, httpPort: 8123 } };
const fatal = 'fatal: unexpected TypeError: x is not a function (at /x/dist/server.js:1:2); the server stops (exit code 5) and must be started again.';

describe('errorForExit', () => {
  test('code 5 before ready: the engine did not start', () => {
    const e = errorForExit(5, null, ['error: the ClickHouse engine (chDB) could not open /d: boom'], o);
    assert.equal(e.code, 'engine-failed');
    assert.match(e.message, /did not start/);
  });
  test('code 5 after ready: an unexpected exit that names the error, not an engine start failure', () => {
    const e = errorForExit(5, null, ['ready', fatal], o, true);
    assert.equal(e.code, 'crashed');
    assert.match(e.message, /stopped unexpectedly \(exit code 5\): fatal: unexpected TypeError: x is not a function/);
    assert.doesNotMatch(e.message, /did not start/);
    assert.equal(e.detail, `ready\n${fatal}`);
  });
  test('kill -9 after ready: the signal, and no stale line presented as the cause', () => {
    const e = errorForExit(null, 'SIGKILL', ['chapter-telemetry 0.1.0 ready in 300 ms'], o, true);
    assert.equal(e.code, 'crashed');
    assert.equal(e.message, 'The telemetry server stopped unexpectedly (signal SIGKILL).');
  });
});
