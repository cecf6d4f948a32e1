/**
 * The guide's curl commands, copied verbatim from telemetry-server/clickhouse/README.md (only the
 * port changes), run by a real shell and curl against the embedded server fed over OTLP. Each
 * prints a Pretty table whose figures match the same query read as JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { encodeLogs, logsRequest, postOtlp, type EventSpec } from '../support/otlp';

let srv: RunningServer;
const commands = readFileSync(join(repoRoot, 'telemetry-server', 'clickhouse', 'README.md'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith("curl -G 'http://localhost:8123'"));

serverPerFile(async (s) => {
  srv = s;
  const events: EventSpec[] = [
    { name: 'api_request', attributes: { 'session.id': 's1', chapter: 'ch03', model: 'claude-sonnet-4-5', input_tokens: 100, output_tokens: 50, cache_read_tokens: 0, cache_creation_tokens: 10, cost_usd: 0.25 } },
    { name: 'api_request', attributes: { 'session.id': 's1', chapter: 'ch03', model: 'claude-sonnet-4-5', input_tokens: 40, output_tokens: 20, cache_read_tokens: 5, cache_creation_tokens: 5, cost_usd: 0.5 } },
    { name: 'api_request', attributes: { 'session.id': 's2', chapter: 'ch05', model: 'claude-opus-4-8', input_tokens: 10, output_tokens: 10, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 1 } },
    { name: 'api_error', attributes: { 'session.id': 's2', chapter: 'ch05', model: 'claude-opus-4-8', status_code: 429, error: 'slow down' } },
  ];
  const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest(events, { 'service.name': 'claude-code', user_id: 'alice' })), 'application/x-protobuf');
  assert.equal(r.status, 200);
});

function run(cmd: string): string {
  return execFileSync('bash', ['-c', cmd.replace('localhost:8123', `localhost:${srv.httpPort}`)], { cwd: repoRoot, encoding: 'utf8' });
}

test('the README names the four seed curl commands', () => {
  assert.deepEqual(commands.map((c) => /seed-queries\/([\w-]+)\.sql/.exec(c)?.[1]).sort(), ['chapter-complexity', 'cost-by-day', 'error-patterns', 'weekly-report']);
});

test('each curl command prints the right numbers', () => {
  const out = Object.fromEntries(commands.map((c) => [/seed-queries\/([\w-]+)\.sql/.exec(c)![1]!, run(c)]));
  // Cost by day: one day, 1.75 USD, 3 requests.
  assert.match(out['cost-by-day']!, /│ \d{4}-\d{2}-\d{2} │\s+1\.75 │\s+3 │/);
  // Error patterns: the 429 as rate_limit_error, once, one session.
  assert.match(out['error-patterns']!, /│ rate_limit_error │\s+429 │\s+1 │\s+1 │/);
  // Chapter complexity: ch03 has 230 tokens over 2 requests (avg 115), ch05 20 over 1.
  assert.match(out['chapter-complexity']!, /│ ch03\s+│\s+230 │\s+1 │\s+115 │\s+2 │/);
  assert.match(out['chapter-complexity']!, /│ ch05\s+│\s+20 │\s+1 │\s+20 │\s+1 │/);
  // Weekly report: 4 events, 3 requests, 1 error, 25 % error rate, 1.75 USD, 2 sessions, 1 author.
  assert.match(out['weekly-report']!, /│\s+4 │\s+3 │\s+1 │\s+25 │\s+1\.75 │\s+2 │\s+1 │/);
});
