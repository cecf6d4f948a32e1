/**
 * The mode switch's history copy, embedded → docker, for real: the real Claude Code CLI writes into
 * the embedded server (chDB), the history is copied over ClickHouse HTTP into the docker stack, the
 * counts match, and the docker side's views rebuild the derived tables (nothing counted twice).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { migrateHistory, sourceTables } from '../../src/stack/migrate-history';
import type { ProgressReport, StackBackend, WriterCredentials } from '../../src/stack/types';
import { runClaude } from '../support/claude-cli';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { startServer, type RunningServer } from '../support/server';
import { eventually, purge, testStack, type TestStack } from './helpers';

describe('history copy between stacks', () => {
  let embedded: RunningServer;
  let stack: TestStack;
  let api: FakeAnthropic;
  const sessions: string[] = [];

  before(async () => {
    api = await startFakeAnthropic();
    embedded = await startServer();
    stack = await testStack('migrate');
    await stack.backend.start();
    for (const chapter of ['ch01', 'ch02']) {
      const run = await runClaude({ prompt: 'say hi', protocol: 'grpc', endpoint: `http://127.0.0.1:${embedded.grpcPort}`, apiUrl: api.url, resourceAttributes: { chapter } });
      assert.equal(run.code, 0, run.stderr);
      sessions.push(run.sessionId);
    }
    await eventually(async () => Number(await embedded.sql(`SELECT count() FROM telemetry_events WHERE session_id = '${sessions[1]}' AND event_type = 'api_request'`)) > 0, 'events in the embedded store');
  });

  after(async () => {
    await api?.close();
    await embedded?.stop();
    if (stack) await purge(stack.project);
  });

  test('only source tables are copied: the ones materialized views fill are rebuilt, not copied', async () => {
    const tables = await sourceTables(embedded.httpUrl);
    assert.ok(tables.includes('otel_logs'));
    assert.ok(tables.includes('otel_metrics_sum'));
    for (const derived of ['telemetry_events', 'session_summaries', 'daily_metrics', 'chapter_focus', 'schema_migrations']) assert.ok(!tables.includes(derived), derived);
  });

  test('embedded → docker: progress to 100, counts match, derived tables match', async () => {
    const progress: ProgressReport[] = [];
    const to = `http://127.0.0.1:${stack.ports.httpPort}`;
    // Writes need each store's writer credential (anonymous ClickHouse HTTP is read-only); optional calls until
    // both sides have one.
    const toAuth = await (stack.backend as unknown as Partial<StackBackend>).writerCredentials?.();
    const fromAuth = (embedded as RunningServer & { credentials?: WriterCredentials }).credentials;
    const result = await migrateHistory({ from: embedded.httpUrl, to, fromAuth, toAuth, onProgress: (p) => progress.push(p), batchRows: 7 });
    assert.ok(result.totalRows > 0);
    for (const t of result.tables) assert.equal(t.copiedRows, t.sourceRows, t.table);
    assert.equal(progress.at(-1)?.percent, 100);
    assert.match(progress.at(-1)!.message, /counts match/);
    const q = `SELECT session_id, event_type, chapter_context, count() FROM telemetry_events GROUP BY ALL ORDER BY ALL FORMAT TabSeparated`;
    assert.equal(await stack.sql(q), await embedded.sql(q));
    assert.match(await stack.sql(q), new RegExp(`${sessions[0]}\\tapi_request\\tch01`));
  });
});
