import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { carryChoices, copySummary, otherMode, planSwitch, undoSteps, type SwitchInput } from '../../src/core/switch-plan';

const base: SwitchInput = { from: 'embedded', to: 'docker', collecting: true, sourceRunning: true, carryHistory: true };

describe('planSwitch', () => {
  test('collecting, with history: target on temp ports, copy, then swap on the normal ports', () => {
    assert.deepEqual(planSwitch(base), ['start-target-temp', 'confirm-carry', 'copy-history', 'stop-target-temp', 'stop-source', 'save-mode', 'start-target']);
  });
  test('source off but history wanted: it is started to be read and stopped again; collection stays off', () => {
    assert.deepEqual(planSwitch({ ...base, collecting: false, sourceRunning: false }), [
      'start-source', 'start-target-temp', 'confirm-carry', 'copy-history', 'stop-target-temp', 'stop-source', 'save-mode',
    ]);
  });
  test('without history: stop, save, start', () => {
    assert.deepEqual(planSwitch({ ...base, carryHistory: false }), ['stop-source', 'save-mode', 'start-target']);
  });
  test('without history, nothing running, collection off: only the setting changes', () => {
    assert.deepEqual(planSwitch({ ...base, carryHistory: false, collecting: false, sourceRunning: false }), ['save-mode']);
  });
  test('same mode: nothing to do', () => assert.deepEqual(planSwitch({ ...base, to: 'embedded' }), []));
  test('the source is always stopped before the target takes the normal ports', () => {
    for (const collecting of [true, false]) for (const sourceRunning of [true, false]) for (const carryHistory of [true, false]) {
      const p = planSwitch({ ...base, collecting, sourceRunning, carryHistory });
      if (p.includes('start-target')) assert.ok(p.indexOf('stop-source') < p.indexOf('start-target'), JSON.stringify(p));
      if (p.includes('copy-history')) assert.ok(p.indexOf('copy-history') < p.indexOf('stop-source'));
      assert.equal(p.at(-1) === 'start-target', collecting);
    }
  });
});

describe('undoSteps', () => {
  test('copy failed: the temporary target goes, the source keeps running, the setting was never touched', () => {
    assert.deepEqual(undoSteps(['start-target-temp', 'confirm-carry'], base), ['stop-target-temp']);
  });
  test('target failed on the normal ports: stop it, restore the setting, bring the source back', () => {
    const done = planSwitch(base).slice(0, -1).concat('start-target');
    assert.deepEqual(undoSteps(done, base), ['stop-target', 'restore-mode', 'restart-source']);
  });
  test('a source started only for reading is stopped, not restarted', () => {
    assert.deepEqual(undoSteps(['start-source', 'start-target-temp'], { sourceRunning: false }), ['stop-target-temp', 'stop-source']);
    assert.deepEqual(undoSteps(['start-source', 'start-target-temp', 'confirm-carry', 'copy-history', 'stop-target-temp', 'stop-source', 'save-mode'], { sourceRunning: false }), ['restore-mode']);
  });
  test('nothing done, nothing to undo', () => assert.deepEqual(undoSteps([], base), []));
});

describe('carryChoices', () => {
  test('empty target: carrying is the default', () => {
    const c = carryChoices('embedded', 'docker', 42, 0);
    assert.equal(c[0]!.carry, true);
    assert.match(c[0]!.label, /42 records/);
  });
  test('target already holds data: not copying is the default, and the risk is said', () => {
    const c = carryChoices('docker', 'embedded', 42, 40);
    assert.equal(c[0]!.carry, false);
    assert.match(c[1]!.detail, /already holds 40 records.*recognised and skipped/);
  });
});

describe('copySummary', () => {
  test('per-table counts and the check', () => {
    assert.equal(
      copySummary([{ table: 'otel_logs', sourceRows: 5, copiedRows: 5 }, { table: 'otel_traces', sourceRows: 0, copiedRows: 0 }, { table: 'otel_metrics_sum', sourceRows: 3, copiedRows: 3 }]),
      '8 records copied (otel_logs 5/5, otel_metrics_sum 3/3); counts match.',
    );
    assert.match(copySummary([{ table: 'otel_logs', sourceRows: 5, copiedRows: 4 }]), /COUNTS DIFFER/);
    assert.equal(
      copySummary([{ table: 'otel_logs', sourceRows: 5, copiedRows: 2, alreadyPresent: 3 }]),
      '2 records copied, 3 already there (otel_logs 5/5); counts match.',
    );
  });
  test('otherMode', () => {
    assert.equal(otherMode('embedded'), 'docker');
    assert.equal(otherMode('docker'), 'embedded');
  });
});
