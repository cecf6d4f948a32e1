// Issue 2 acceptance: the real Claude Code CLI (2.1.197), answered by a fake Anthropic API on loopback,
// exports OTLP to the real embedded server over each of its three protocols; SQL on the server's
// ClickHouse HTTP endpoint must then show exactly what the CLI reported.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/ports';
import { startServer, repoRoot, type RunningServer } from '../support/server';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../support/fake-anthropic';
import { runClaude, defaultModel, type ClaudeRun, type OtlpProtocol, type RunClaudeOptions } from '../support/claude-cli';
import { startOtlpTee, type OtlpTee } from './support/otlp-tee';
import { pollRows, rows, num, bool, type Row } from './support/sql';

const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
const artifacts = join(repoRoot, '.test-artifacts', 'cli');

let server: RunningServer;
let api: FakeAnthropic;
let tee: OtlpTee;
const runLog: string[] = [];
const homes: string[] = [];

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  server = await startServer();
  api = await startFakeAnthropic();
  tee = await startOtlpTee({ grpc: `127.0.0.1:${server.grpcPort}`, http: server.otlpHttpUrl });
});

after(async () => {
  await tee?.close();
  await api?.close();
  const code = await server?.stop();
  writeFileSync(join(artifacts, 'claude-to-server.server.log'), `${server?.output() ?? ''}\n[exit ${code}]\n`);
  writeFileSync(join(artifacts, 'claude-to-server.runs.log'), runLog.join('\n'));
  for (const dir of [...homes, server?.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

function endpointFor(protocol: OtlpProtocol, via: 'direct' | 'tee' = 'direct'): string {
  if (via === 'tee') return protocol === 'grpc' ? tee.grpcEndpoint : tee.httpEndpoint;
  return protocol === 'grpc' ? `http://${server.host}:${server.grpcPort}` : server.otlpHttpUrl;
}

/** Runs the CLI once with the replies queued, asserting the fake API used them all. */
async function claude(
  protocol: OtlpProtocol,
  o: Omit<RunClaudeOptions, 'protocol' | 'endpoint' | 'apiUrl'> & { apiUrl?: string; via?: 'direct' | 'tee' },
): Promise<ClaudeRun> {
  const run = await runClaude({
    protocol,
    endpoint: endpointFor(protocol, o.via),
    apiUrl: o.apiUrl ?? api.url,
    resourceAttributes: { chapter: 'ch05', user_id: 'alice' },
    userId: 'cli-own-user-id',
    ...o,
  });
  homes.push(run.home);
  runLog.push(`--- ${protocol} session=${run.sessionId} exit=${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  const left = api.pending();
  api.clearQueue();
  assert.equal(left, 0, `the CLI did not consume every scripted reply; stdout: ${run.stdout} stderr: ${run.stderr}`);
  return run;
}

const EVENTS_SQL = `
  SELECT event_type, user_id, session_id, model, cost_usd, input_tokens, output_tokens, cache_read_tokens,
         cache_creation_tokens, token_count, status_code, error_type, error_message, tool_name, success,
         chapter_context, request_id, event_sequence, decision
  FROM telemetry_events WHERE session_id = {sid:String} ORDER BY event_sequence`;

async function eventsOf(sid: string, what: string, done: (r: Row[]) => boolean): Promise<Row[]> {
  return await pollRows(server, what, EVENTS_SQL, { sid }, done);
}

const has = (type: string, n = 1) => (r: Row[]) => r.filter((x) => x.event_type === type).length >= n;

for (const [i, protocol] of PROTOCOLS.entries()) {
  describe(`Claude Code CLI → embedded server over ${protocol}`, () => {
    test('api_request rows carry the fake API’s tokens, the CLI’s cost and model; prompt redacted; chapter and user_id from resource attributes; metrics in otel_metrics_sum', async () => {
      // Distinct numbers per protocol so a row from another run can never satisfy this one.
      const usage: FakeUsage = {
        input_tokens: 1201 + i * 111,
        output_tokens: 317 + i * 13,
        cache_read_input_tokens: 4099 + i * 7,
        cache_creation_input_tokens: 58 + i,
      };
      const secret = `secret-${randomUUID()}`;
      api.enqueue({ kind: 'text', text: 'Chapter five reads well.', usage });
      const run = await claude(protocol, { prompt: `review chapter five ${secret}` });
      assert.equal(run.code, 0, `claude failed: ${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /Chapter five reads well\./);

      const ev = await eventsOf(run.sessionId, 'user_prompt and api_request in telemetry_events', (r) => has('api_request')(r) && has('user_prompt')(r));
      const reqs = ev.filter((r) => r.event_type === 'api_request');
      assert.equal(reqs.length, 1, JSON.stringify(ev));
      const req = reqs[0]!;
      assert.equal(req.model, defaultModel);
      assert.equal(num(req.input_tokens), usage.input_tokens);
      assert.equal(num(req.output_tokens), usage.output_tokens);
      assert.equal(num(req.cache_read_tokens), usage.cache_read_input_tokens);
      assert.equal(num(req.cache_creation_tokens), usage.cache_creation_input_tokens);
      assert.equal(
        num(req.token_count),
        usage.input_tokens + usage.output_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
      );
      assert.equal(req.request_id, api.messageRequests().at(-1)!.requestId);

      // The cost is the CLI's own figure, exactly as it sent it in the api_request log record.
      const [raw] = await rows(
        server,
        `SELECT LogAttributes['cost_usd'] AS cost FROM otel_logs
         WHERE LogAttributes['session.id'] = {sid:String} AND LogAttributes['event.name'] = 'api_request'`,
        { sid: run.sessionId },
      );
      assert.ok(raw, 'no api_request record in otel_logs');
      const cliCost = Number(raw.cost);
      assert.ok(cliCost > 0, `CLI cost_usd should be > 0, got ${String(raw.cost)}`);
      assert.equal(num(req.cost_usd), cliCost);

      for (const r of ev) {
        assert.equal(r.chapter_context, 'ch05', `chapter_context of ${String(r.event_type)}`);
        // The resource attribute user_id wins over the CLI's own user.id.
        assert.equal(r.user_id, 'alice', `user_id of ${String(r.event_type)}`);
      }

      // Prompt redacted: the user_prompt record says <REDACTED> and the text is nowhere in the raw logs.
      const prompts = await rows(
        server,
        `SELECT LogAttributes['prompt'] AS prompt
         FROM otel_logs WHERE LogAttributes['session.id'] = {sid:String} AND LogAttributes['event.name'] = 'user_prompt'`,
        { sid: run.sessionId },
      );
      assert.equal(prompts.length, 1);
      assert.equal(prompts[0]!.prompt, '<REDACTED>');
      const [leak] = await rows(
        server,
        `SELECT count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = {sid:String}
           AND (position(Body, {secret:String}) > 0 OR arrayExists(v -> position(v, {secret:String}) > 0, mapValues(LogAttributes)))`,
        { sid: run.sessionId, secret },
      );
      assert.equal(num(leak!.n), 0, 'the prompt text reached the store although OTEL_LOG_USER_PROMPTS was not set');

      // The CLI's own metrics: cost and tokens by type, delta sums, with the resource attributes.
      const metricSql = `
        SELECT MetricName AS name, Attributes['type'] AS type, sum(Value) AS value, any(AggregationTemporality) AS temporality,
               any(IsMonotonic) AS monotonic, any(ResourceAttributes['chapter']) AS chapter, any(ResourceAttributes['user_id']) AS user
        FROM otel_metrics_sum WHERE Attributes['session.id'] = {sid:String}
          AND MetricName IN ('claude_code.cost.usage', 'claude_code.token.usage')
        GROUP BY name, type ORDER BY name, type`;
      const m = await pollRows(server, 'cost and token metrics in otel_metrics_sum', metricSql, { sid: run.sessionId }, (r) => r.length >= 5);
      const metric = (name: string, type = '') => m.find((x) => x.name === name && x.type === type);
      assert.ok(Math.abs(num(metric('claude_code.cost.usage')?.value) - cliCost) < 1e-12, JSON.stringify(m));
      assert.equal(num(metric('claude_code.token.usage', 'input')?.value), usage.input_tokens);
      assert.equal(num(metric('claude_code.token.usage', 'output')?.value), usage.output_tokens);
      assert.equal(num(metric('claude_code.token.usage', 'cacheRead')?.value), usage.cache_read_input_tokens);
      assert.equal(num(metric('claude_code.token.usage', 'cacheCreation')?.value), usage.cache_creation_input_tokens);
      for (const x of m) {
        assert.equal(num(x.temporality), 1, `${String(x.name)} should be DELTA`);
        assert.equal(bool(x.monotonic), true);
        assert.equal(x.chapter, 'ch05');
        assert.equal(x.user, 'alice');
      }
    });

    test('a 429 reply becomes one api_error with status_code 429 and error_type rate_limit_error', async () => {
      // A realistic message without the type name: error_type must come from the status, not the text.
      const message = 'Number of request tokens has exceeded your per-minute rate limit';
      api.enqueue({ kind: 'error', status: 429, message });
      const run = await claude(protocol, { prompt: 'summarise chapter five' });
      assert.equal(run.code, 1, 'the CLI should fail on a 429 with retries disabled');
      assert.match(run.stdout + run.stderr, /429/);

      const ev = await eventsOf(run.sessionId, 'api_error in telemetry_events', has('api_error'));
      const errs = ev.filter((r) => r.event_type === 'api_error');
      assert.equal(errs.length, 1, JSON.stringify(ev));
      const e = errs[0]!;
      assert.equal(num(e.status_code), 429);
      assert.equal(e.error_type, 'rate_limit_error');
      assert.match(String(e.error_message), /per-minute rate limit/);
      assert.equal(e.model, defaultModel);
      assert.equal(bool(e.success), false);
      assert.equal(e.chapter_context, 'ch05');
      assert.equal(e.user_id, 'alice');
      assert.equal(ev.filter((r) => r.event_type === 'api_request').length, 0, 'a failed request is not an api_request');
    });

    test('tool calls produce tool_decision and tool_result with tool_name and success; OTEL_LOG_USER_PROMPTS=1 keeps the prompt text', async () => {
      const prompt = `write the notes, then list a missing dir ${randomUUID()}`;
      api.enqueue(
        { kind: 'tool_use', name: 'Write', input: { file_path: 'notes-ch05.md', content: 'Chapter five notes\nline two\n' } },
        { kind: 'tool_use', name: 'Bash', input: { command: 'ls /nonexistent-ct-dir', description: 'List a missing directory' } },
        { kind: 'text', text: 'Done.' },
      );
      const run = await claude(protocol, { prompt, logPrompts: true, extraArgs: ['--allowedTools', 'Write', 'Bash'] });
      assert.equal(run.code, 0, `claude failed: ${run.stdout}${run.stderr}`);
      // The tools really ran (the CLI's cwd is its HOME).
      assert.equal(readFileSync(join(run.home, 'notes-ch05.md'), 'utf8'), 'Chapter five notes\nline two\n');

      const ev = await eventsOf(run.sessionId, 'two tool_result rows in telemetry_events', (r) => has('tool_result', 2)(r) && has('api_request', 3)(r));
      const results = ev.filter((r) => r.event_type === 'tool_result');
      const write = results.find((r) => r.tool_name === 'Write');
      const bash = results.find((r) => r.tool_name === 'Bash');
      assert.ok(write && bash, JSON.stringify(results));
      assert.equal(bool(write.success), true, JSON.stringify(write));
      assert.equal(bool(bash.success), false, JSON.stringify(bash));
      assert.equal(bash.error_type, 'ShellError');
      const decisions = ev.filter((r) => r.event_type === 'tool_decision').map((r) => r.tool_name).sort();
      assert.deepEqual(decisions, ['Bash', 'Write']);
      for (const d of ev.filter((r) => r.event_type === 'tool_decision')) assert.equal(d.decision, 'accept');

      const [p] = await rows(
        server,
        `SELECT LogAttributes['prompt'] AS prompt FROM otel_logs
         WHERE LogAttributes['session.id'] = {sid:String} AND LogAttributes['event.name'] = 'user_prompt'`,
        { sid: run.sessionId },
      );
      assert.equal(p?.prompt, prompt);
    });

    test('every attribute the CLI sends arrives in otel_logs and otel_metrics_sum (nothing dropped in decoding)', async () => {
      // Through the tee, which records what the CLI sent on the wire and forwards it unchanged.
      api.enqueue(
        { kind: 'tool_use', name: 'Bash', input: { command: 'ls /nonexistent-ct-dir', description: 'List' } },
        { kind: 'tool_use', name: 'Write', input: { file_path: 'tee.md', content: 'a\nb\n' } },
        { kind: 'text', text: 'ok' },
      );
      const ok = await claude(protocol, { prompt: 'all events please', via: 'tee', extraArgs: ['--allowedTools', 'Bash', 'Write'] });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      api.enqueue({ kind: 'error', status: 529, message: 'Overloaded' });
      const failed = await claude(protocol, { prompt: 'and an error', via: 'tee' });
      assert.equal(failed.code, 1);

      const sids = [ok.sessionId, failed.sessionId];
      const sent = tee.logs.filter((l) => sids.includes(l.attributes['session.id'] ?? ''));
      const sentTypes = new Set(sent.map((l) => l.attributes['event.name']));
      for (const t of ['user_prompt', 'api_request', 'assistant_response', 'tool_decision', 'tool_result', 'api_error'])
        assert.ok(sentTypes.has(t), `the CLI did not send ${t} (tee saw: ${[...sentTypes].join(', ')}; exports: ${tee.exports.join(', ')})`);
      assert.ok(sent.every((l) => l.protocol === protocol), `tee saw other protocols: ${[...new Set(sent.map((l) => l.protocol))].join(',')}`);

      const stored = await pollRows(
        server,
        `all ${sent.length} log records of both sessions in otel_logs`,
        `SELECT LogAttributes['session.id'] AS sid, LogAttributes['event.sequence'] AS seq, Body AS body, ScopeName AS scope,
                ServiceName AS service, LogAttributes AS attrs, ResourceAttributes AS res
         FROM otel_logs WHERE LogAttributes['session.id'] IN ({a:String}, {b:String})`,
        { a: sids[0]!, b: sids[1]! },
        (r) => r.length >= sent.length,
      );
      assert.equal(stored.length, sent.length, 'each record sent is stored exactly once');
      for (const s of sent) {
        const key = `${s.attributes['session.id']}#${s.attributes['event.sequence']}`;
        const row = stored.find((r) => `${String(r.sid)}#${String(r.seq)}` === key);
        assert.ok(row, `record ${key} (${s.body}) missing from otel_logs`);
        assert.equal(row.body, s.body);
        assert.equal(row.scope, s.scope);
        assert.equal(row.service, s.resource['service.name']);
        const attrs = row.attrs as Record<string, string>;
        for (const [k, v] of Object.entries(s.attributes)) {
          assert.ok(k in attrs, `${s.body}: attribute ${k} (${s.types[k]}) dropped; stored keys: ${Object.keys(attrs).join(', ')}`);
          if (s.types[k] === 'doubleValue') assert.equal(Number(attrs[k]), Number(v), `${s.body}: ${k}`);
          else assert.equal(attrs[k], v, `${s.body}: ${k} (${s.types[k]})`);
        }
        const res = row.res as Record<string, string>;
        for (const [k, v] of Object.entries(s.resource)) assert.equal(res[k], v, `${s.body}: resource attribute ${k}`);
      }

      // Metrics: every data point's attributes and value, summed per (metric, attribute set).
      const sentPoints = tee.metrics.filter((p) => sids.includes(p.attributes['session.id'] ?? ''));
      assert.ok(sentPoints.length > 0, 'the CLI sent no metrics');
      assert.ok(sentPoints.every((p) => p.kind === 'sum'), `claude 2.1.197 sends sums only: ${sentPoints.map((p) => p.kind).join(',')}`);
      const keyOf = (name: string, a: Record<string, string>) => `${name} ${JSON.stringify(Object.entries(a).sort())}`;
      const expected = new Map<string, number>();
      for (const p of sentPoints) expected.set(keyOf(p.name, p.attributes), (expected.get(keyOf(p.name, p.attributes)) ?? 0) + p.value);
      const got = new Map<string, number>();
      await pollRows(
        server,
        'every metric point of both sessions in otel_metrics_sum',
        `SELECT MetricName AS name, Attributes AS attrs, sum(Value) AS value FROM otel_metrics_sum
         WHERE Attributes['session.id'] IN ({a:String}, {b:String}) GROUP BY name, attrs`,
        { a: sids[0]!, b: sids[1]! },
        (r) => {
          got.clear();
          for (const x of r) got.set(keyOf(String(x.name), x.attrs as Record<string, string>), num(x.value));
          return [...expected.keys()].every((k) => got.has(k));
        },
      );
      for (const [k, v] of expected) assert.ok(Math.abs((got.get(k) ?? NaN) - v) <= 1e-12 * Math.max(1, v), `${k}: sent ${v}, stored ${got.get(k)}`);
      assert.equal(got.size, expected.size, 'no extra or split metric series');
    });
  });
}

describe('error_type for other failures (http/protobuf)', () => {
  const cases: { status: number | 'no connection'; type: string }[] = [
    { status: 500, type: 'api_error' },
    { status: 529, type: 'overloaded_error' },
    { status: 401, type: 'authentication_error' },
    { status: 'no connection', type: 'connection_error' },
  ];
  for (const c of cases) {
    test(`${c.status} → ${c.type}`, async () => {
      let apiUrl: string | undefined;
      if (c.status === 'no connection') {
        // A real refused connection: a port that was just free and nobody listens on.
        apiUrl = `http://127.0.0.1:${await freePort()}`;
      } else api.enqueue({ kind: 'error', status: c.status, message: 'something went wrong upstream' });
      const run = await claude('http/protobuf', { prompt: 'hello', ...(apiUrl ? { apiUrl } : {}) });
      assert.equal(run.code, 1);
      const ev = await eventsOf(run.sessionId, 'api_error in telemetry_events', has('api_error'));
      const e = ev.find((r) => r.event_type === 'api_error')!;
      assert.equal(num(e.status_code), c.status === 'no connection' ? 0 : c.status);
      assert.equal(e.error_type, c.type);
    });
  }

  test('with one retry allowed, two 500s give one api_error and one api_retries_exhausted, both api_error type', async () => {
    const before = api.messageRequests().length;
    api.enqueue({ kind: 'error', status: 500, message: 'boom' }, { kind: 'error', status: 500, message: 'boom again' });
    const run = await claude('http/protobuf', { prompt: 'hello', maxRetries: 1 });
    assert.equal(run.code, 1);
    assert.equal(api.messageRequests().length - before, 2, 'the CLI should have retried once');
    const ev = await eventsOf(run.sessionId, 'api_retries_exhausted in telemetry_events', has('api_retries_exhausted'));
    // CLI 2.1.197 reports the final failed attempt as api_error, then api_retries_exhausted.
    const errs = ev.filter((r) => r.event_type === 'api_error');
    const exhausted = ev.filter((r) => r.event_type === 'api_retries_exhausted');
    assert.equal(errs.length, 1, JSON.stringify(ev));
    assert.equal(exhausted.length, 1, JSON.stringify(ev));
    assert.match(String(errs[0]!.error_message), /boom again/);
    for (const e of [...errs, ...exhausted]) {
      assert.equal(num(e.status_code), 500);
      assert.equal(e.error_type, 'api_error');
    }
  });

  test('a 529 that succeeds on retry leaves no api_error, only the api_request', async () => {
    api.enqueue({ kind: 'error', status: 529, message: 'Overloaded' }, { kind: 'text', text: 'fine now' });
    const run = await claude('http/protobuf', { prompt: 'hello', maxRetries: 1 });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const ev = await eventsOf(run.sessionId, 'api_request in telemetry_events', has('api_request'));
    assert.deepEqual(ev.map((r) => r.event_type).filter((t) => String(t).startsWith('api_')), ['api_request']);
  });
});
