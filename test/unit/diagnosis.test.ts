import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, type CollectionCounts } from '../../src/core/diagnosis';

const up: CollectionCounts = { serverReachable: true, events: 0, metricPoints: 0, taggedEvents: 0, staleTerminals: 0, injecting: true };

describe('diagnose', () => {
  test('server down', () => assert.equal(diagnose({ ...up, serverReachable: false, events: 5 }).code, 'server-down'));
  test('nothing received → open a new terminal and run claude', () => {
    const d = diagnose(up);
    assert.equal(d.code, 'nothing-received');
    assert.match(d.message, /open a new terminal and run claude/);
  });
  test('nothing received but terminals predate the env → relaunch', () => {
    const d = diagnose({ ...up, staleTerminals: 2 });
    assert.equal(d.code, 'env-stale');
    assert.match(d.message, /relaunch the terminal/);
  });
  test('events without our tag → relaunch', () => assert.equal(diagnose({ ...up, events: 3, metricPoints: 4 }).code, 'env-stale'));
  test('untagged events are fine when injection is off', () => assert.equal(diagnose({ ...up, injecting: false, events: 3 }).code, 'ok'));
  test('ok', () => {
    const d = diagnose({ ...up, events: 3, taggedEvents: 3, metricPoints: 7 });
    assert.equal(d.ok, true);
    assert.match(d.message, /3 event\(s\) and 7 metric/);
  });
});
