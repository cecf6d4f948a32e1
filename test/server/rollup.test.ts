/**
 * events_15m, the sidebar's quarter-hour rollup, gives exactly the numbers of the raw events for
 * local days in zones whose offsets are not whole hours (the reason for 15-minute buckets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChdbStore } from '../../src/server/store/chdb';
import { migratedStorePerSuite } from '../support/migrated-store';

let store: ChdbStore;
migratedStorePerSuite('ct-rollup-', async (s) => {
  store = s;
  // 5000 events over 12 days, every minute of the day, three authors, a mix of types and sessions.
  await store.query(`INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, model, cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens)
    SELECT now64(3) - toIntervalSecond(cityHash64(number) % (12 * 86400)),
      ['api_request', 'api_request', 'user_prompt', 'api_error'][1 + number % 4],
      concat('u', toString(number % 3)), concat('s', toString(intDiv(number, 7))), ['m1', 'm2'][1 + number % 2],
      if(number % 4 < 2, (number % 97) / 1000, 0), number % 500, number % 60, number % 900, number % 40
    FROM numbers(5000)`);
});

async function rows(sql: string, params: Record<string, string>): Promise<string> {
  return (await store.query(sql, { params, format: 'TabSeparated' })).toString();
}

for (const tz of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Kathmandu']) {
  test(`per local day in ${tz}, the rollup equals the raw events`, async () => {
    const raw = await rows(`SELECT toDate(timestamp, {tz:String}) AS d, user_id, round(sumIf(cost_usd, event_type = 'api_request'), 9),
        countIf(event_type = 'api_request'), sumIf(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens, event_type = 'api_request'),
        countIf(event_type = 'api_error'), uniqExactIf(session_id, session_id != '')
      FROM telemetry_events GROUP BY d, user_id ORDER BY d, user_id`, { tz });
    const rolled = await rows(`SELECT toDate(bucket, {tz:String}) AS d, user_id, round(sum(cost_usd), 9), sum(requests),
        sum(input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens), sum(errors), uniqExactMerge(sessions)
      FROM events_15m GROUP BY d, user_id ORDER BY d, user_id`, { tz });
    assert.ok(raw.split('\n').length > 30, 'enough days × authors to mean something');
    assert.equal(rolled, raw);
  });
}
