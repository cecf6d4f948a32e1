/**
 * `npm run team -- backup` / `restore` (the engine's own BACKUP/RESTORE) on a real server's data:
 * a round trip keeps the rows of every table, materialized views' targets included, and the
 * restored server runs (its views still fire on new exports); a running server's directory is
 * refused (stop it first); restore refuses a directory holding rows unless --replace, and with it
 * the directory holds exactly the backup afterwards; a backup never overwrites a file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';
import { repoRoot, runNodeScript, startServer, type RunningServer } from '../support/server';

const teamCli = join(repoRoot, 'dist', 'team-cli.js');
const team = (...args: string[]) => runNodeScript(teamCli, args);
/** Tables the round trip must carry with rows: raw, the event table and every aggregate a view fills. */
const MUST_HAVE_ROWS = ['otel_logs', 'telemetry_events', 'session_summaries', 'daily_metrics', 'events_15m', 'schema_migrations'];

async function tableCounts(s: RunningServer): Promise<Record<string, number>> {
  const tables = (await s.sql("SELECT name FROM system.tables WHERE database = 'default' AND engine NOT IN ('View', 'MaterializedView') ORDER BY name FORMAT TabSeparated")).trim().split('\n');
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number((await s.sql(`SELECT count() FROM default.\`${t}\` FORMAT TabSeparated`)).trim());
  return out;
}

async function sendEvents(s: RunningServer, session: string, n: number): Promise<void> {
  const body = encodeLogs(logsRequest(Array.from({ length: n }, (_, i) => ({
    name: i % 4 === 0 ? 'user_prompt' : 'api_request',
    attributes: { 'session.id': session, cost_usd: 0.02, model: 'claude-sonnet-4-5', input_tokens: 100 + i, output_tokens: 10, prompt_length: 40 },
  })), { 'service.name': 'claude-code', user_id: 'alice', chapter: 'ch03' }));
  const r = await postOtlp(s.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
  assert.equal(r.status, 200);
}

describe('backup and restore (engine BACKUP/RESTORE, stopped server)', () => {
  let root: string;
  let source: string;
  let archive: string;
  let original: Record<string, number>;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-backup-'));
    source = join(root, 'source');
    archive = join(root, 'backups', 'team-1.tar');
    const s = await startServer({ dataDir: source });
    try {
      await sendEvents(s, 'sess-a', 40);
      await sendEvents(s, 'sess-b', 12);
      original = await tableCounts(s);
      // While it runs, the directory is the server's.
      const refused = await team('backup', '--data-dir', source, '--out', archive);
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, new RegExp(`a server \\(pid ${s.proc.pid}\\) is running on .*stop it first`));
      assert.ok(!existsSync(archive));
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('backup of a stopped server: one .tar, rows per table as the server had them; never overwrites', async () => {
    for (const t of MUST_HAVE_ROWS) assert.ok(original[t]! > 0, `${t} has rows before the backup: ${JSON.stringify(original)}`);
    const r = await team('backup', '--data-dir', source, '--out', archive, '--json');
    assert.equal(r.code, 0, r.stderr);
    const reported = JSON.parse(r.stdout.trim()) as Record<string, number>;
    for (const [t, n] of Object.entries(original)) assert.equal(reported[t], n, t);
    assert.ok(existsSync(archive) && !existsSync(`${archive}.lock`));
    assert.equal(statSync(archive).mode & 0o777, 0o600, 'only the owner reads the team\'s records');
    assert.ok(!existsSync(join(source, 'server.pid')), 'the command gave the directory back');
    const again = await team('backup', '--data-dir', source, '--out', archive);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const notTar = await team('backup', '--data-dir', source, '--out', join(root, 'x.zip'));
    assert.equal(notTar.code, 1);
    assert.match(notTar.stderr, /must end in \.tar/);
  });

  test('restore into a new directory: every table has the same rows, and the restored server runs and its views fire', async () => {
    const target = join(root, 'restored');
    const r = await team('restore', archive, '--data-dir', target);
    assert.equal(r.code, 0, r.stderr);
    const s = await startServer({ dataDir: target });
    try {
      assert.deepEqual(await tableCounts(s), original);
      await sendEvents(s, 'sess-c', 4);
      const after = await tableCounts(s);
      assert.equal(after.otel_logs, original.otel_logs! + 4);
      assert.equal(after.telemetry_events, original.telemetry_events! + 4);
      assert.ok(after.events_15m! > original.events_15m!);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  test('restore refuses a directory that holds rows; with --replace it holds exactly the backup afterwards', async () => {
    // The source has moved on since the backup.
    const s = await startServer({ dataDir: source });
    await sendEvents(s, 'sess-late', 8);
    const moved = await tableCounts(s);
    assert.equal(await s.stop(), 0);
    const refused = await team('restore', archive, '--data-dir', source);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty \(.*otel_logs: \d+ rows.*add --replace/);
    const s2 = await startServer({ dataDir: source });
    try {
      assert.deepEqual(await tableCounts(s2), moved, 'a refused restore changed nothing');
    } finally {
      assert.equal(await s2.stop(), 0);
    }
    const replaced = await team('restore', archive, '--data-dir', source, '--replace');
    assert.equal(replaced.code, 0, replaced.stderr);
    const s3 = await startServer({ dataDir: source });
    try {
      assert.deepEqual(await tableCounts(s3), original);
    } finally {
      assert.equal(await s3.stop(), 0);
    }
  });
});
