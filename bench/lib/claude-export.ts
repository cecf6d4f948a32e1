/** Claude-Code-shaped OTLP log exports for the ingest benches (api_request records as the catalog's), and their rows as insert bodies. */
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-8', 'claude-haiku-4-5'];

/** One export request of `n` api_request records; `session` names their session (default: a UUID from `batchNo`). */
export function exportRequest(batchNo: number, n: number, session = `00000000-0000-4000-8000-${String(batchNo).padStart(12, '0')}`): object {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceLogs: [{
      resource: { attributes: kv({ 'service.name': 'claude-code', 'service.version': '2.1.197', user_id: `user${batchNo % 7}`, chapter: `ch${String(batchNo % 12).padStart(2, '0')}`, 'os.type': 'linux', 'host.arch': 'amd64' }) },
      scopeLogs: [{
        scope: { name: 'com.anthropic.claude_code.events', version: '2.1.197' },
        logRecords: Array.from({ length: n }, (_, i) => ({
          timeUnixNano: (now + BigInt(i) * 1000n).toString(),
          observedTimeUnixNano: (now + BigInt(i) * 1000n).toString(),
          body: { stringValue: 'claude_code.api_request' },
          attributes: kv({
            'event.name': 'api_request', 'event.timestamp': new Date().toISOString(), 'event.sequence': i,
            'session.id': session, 'prompt.id': `p-${batchNo}-${i >> 3}`,
            'user.id': 'f94ff1eaf3838d8a431109f89093e2736202619e80998847d2e7d24b2ba2497c', 'terminal.type': 'xterm',
            model: MODELS[i % 3]!, input_tokens: 20 + (i % 50), output_tokens: 7 + (i % 300), cache_read_tokens: i % 1000, cache_creation_tokens: i % 40,
            cost_usd: 0.0003 + (i % 10) * 0.0001, duration_ms: 800 + (i % 900), request_id: `req_${batchNo}_${i}`, speed: 'normal', query_source: 'sdk', 'app.version': '2.1.197',
          }),
        })),
      }],
    }],
  };
}

export function kv(o: Record<string, string | number>) {
  return Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'string' ? { stringValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v } }));
}

/** JSONEachRow rows (`logsToRows`' lines) as insert bodies of `rows` lines each (the last may be shorter). */
export function insertBodies(lines: string[], rows: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += rows) out.push(Buffer.from(lines.slice(i, i + rows).join('\n') + '\n'));
  return out;
}
