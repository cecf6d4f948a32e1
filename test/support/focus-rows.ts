// otel_logs rows as the receiver stores them, for the attribution tests (events_chapters against the ASOF view):
// the extension's focus record, and an insert of such rows into a store the test opened.
import type { Store } from '../../src/server/store/types';

/** A DateTime64 literal the engine parses in JSONEachRow ("YYYY-MM-DD hh:mm:ss.sss", UTC). */
export const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** The chapter tracker's focus record: `user` had `chapter` in focus from `ms` on. */
export function focusRow(user: string, ms: number, chapter: string): object {
  return {
    Timestamp: iso(ms), ServiceName: 'chapter-telemetry', ResourceAttributes: { user_id: user },
    LogAttributes: { 'event.name': 'chapter_focus', 'event.timestamp': new Date(ms).toISOString(), chapter, user_id: user },
  };
}

/** One insert of `rows` into otel_logs (one block: the views see them together); nothing for none. */
export async function insertLogRows(store: Store, rows: object[]): Promise<void> {
  if (rows.length) await store.insertJsonEachRow('otel_logs', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')));
}
