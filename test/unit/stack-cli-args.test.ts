/**
 * `npm run stack` argument parsing (node:util parseArgs): both `--flag value` and `--flag=value`,
 * one port validator shared with the server's options, no mode unless one is named (status, stop
 * and down then find what runs), and a usage error for anything else.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseCliArgs } from '../../src/stack/cli';
import { parsePortOption } from '../../src/core/port-option';

describe('npm run stack arguments', () => {
  test('--flag value and --flag=value give the same result', () => {
    const a = parseCliArgs(['up', '--mode', 'docker', '--grpc-port', '5317', '--http-port', '9123', '--project', 'p', '--volumes'], {});
    const b = parseCliArgs(['up', '--mode=docker', '--grpc-port=5317', '--http-port=9123', '--project=p', '--volumes'], {});
    assert.deepEqual(a, b);
    assert.equal(a.mode, 'docker');
    assert.deepEqual(a.ports, { grpcPort: 5317, httpPort: 9123 });
    assert.equal(a.volumes, true);
  });

  test('no --mode: undefined (found at run time), unless CHAPTER_TELEMETRY_MODE names one', () => {
    assert.equal(parseCliArgs(['status'], {}).mode, undefined);
    assert.equal(parseCliArgs(['status'], { CHAPTER_TELEMETRY_MODE: 'docker' }).mode, 'docker');
    assert.equal(parseCliArgs(['status', '--mode', 'embedded'], { CHAPTER_TELEMETRY_MODE: 'docker' }).mode, 'embedded');
    assert.throws(() => parseCliArgs(['status'], { CHAPTER_TELEMETRY_MODE: 'k8s' }), /CHAPTER_TELEMETRY_MODE must be embedded or docker/);
  });

  test('bad input: unknown option, missing value, bad mode, bad port, extra or missing command', () => {
    assert.throws(() => parseCliArgs(['up', '--nope'], {}), /Unknown option '--nope'/);
    assert.throws(() => parseCliArgs(['up', '--http-port'], {}), /--http-port/);
    assert.throws(() => parseCliArgs(['up', '--mode', 'kubernetes'], {}), /--mode must be embedded or docker, got "kubernetes"/);
    for (const bad of ['0', '65536', '80.5', '0x50', '1e3', '', ' 80', 'abc']) {
      assert.throws(() => parseCliArgs(['up', `--grpc-port=${bad}`], {}), /--grpc-port must be a port number from 1 to 65535/, bad);
    }
    assert.throws(() => parseCliArgs(['up', 'down'], {}), /unexpected argument down/);
    assert.throws(() => parseCliArgs([], {}), /usage:/);
    assert.throws(() => parseCliArgs(['restart'], {}), /usage:/);
  });

  test('the shared port validator: 1..65535 in decimal digits only', () => {
    assert.equal(parsePortOption('--p', '1'), 1);
    assert.equal(parsePortOption('--p', '65535'), 65535);
    assert.throws(() => parsePortOption('--p', undefined), /--p must be a port number/);
    assert.throws(() => parsePortOption('--p', '00000080'), /--p must be a port number/);
  });
});
