/**
 * Ingest options. An export's deduplication token must not change between versions: the engine keeps the tokens of
 * stored blocks on disk, and a sender's retry after an upgrade is recognised only by the same token.
 * The token is sha256 over the table name and each row line, every one followed by a newline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { exportToken } from '../../src/server/ingest';
import { parseArgs, UsageError } from '../../src/server/config';

function lineByLine(table: string, lines: string[]): string {
  const h = createHash('sha256').update(table).update('\n');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('base64url');
}

test('the export token is the line-by-line hash of earlier versions (multi-byte text included)', () => {
  const lines = ['{"Body":"é 😀 \\n"}', '{"Body":"x"}', ''];
  for (const n of [1, 2, 3]) assert.equal(exportToken('otel_logs', lines.slice(0, n)), lineByLine('otel_logs', lines.slice(0, n)));
  assert.notEqual(exportToken('otel_logs', ['a']), exportToken('otel_traces', ['a']));
});

test('--group-wait-ms takes 0 to 1000 whole milliseconds; anything else is a usage error', () => {
  assert.equal(parseArgs([]).groupWaitMs, undefined);
  assert.equal(parseArgs(['--group-wait-ms', '0']).groupWaitMs, 0);
  assert.equal(parseArgs(['--group-wait-ms=25']).groupWaitMs, 25);
  for (const bad of ['-1', '1.5', '1001', 'soon', '']) assert.throws(() => parseArgs(['--group-wait-ms', bad]), UsageError);
});
