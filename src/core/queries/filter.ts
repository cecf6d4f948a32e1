import type { Filter, Params } from './types';

/**
 * Every event with the chapter its author had in focus (`chapter`, `chapter_source`), attributed when
 * it was stored and corrected when a focus record arrives late (0010_events_chapters.sql): the same
 * answer as the view `events_attributed` without its ASOF join. FINAL keeps one row per event (the
 * table may hold a superseded row until parts merge). It has the columns the chapter figures need
 * (time, author, event type, session, model, cost, tokens); the rest stays in `events_attributed`.
 * Distinct sessions: `uniqExactIf(session_hash, session_hash != 0)` (sipHash64 of session_id, 0 when none), as
 * events_15m counts them. A filter on `event_type` may be a PREWHERE (applied before FINAL picks a row): every
 * stored version of one event has the same type (only chapter, chapter_source and focus_ts differ), so the
 * same row wins, and the other columns are read for the matching rows only.
 */
export const EVENTS_WITH_CHAPTERS = 'events_chapters FINAL';

/**
 * The WHERE fragment shared by every windowed query. It is constant SQL text: the window and the
 * author are bound as `{from_ms}`, `{to_ms}` and `{user}` (an empty user means everyone).
 */
export const WINDOW_AND_USER = `timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
  AND timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
  AND ({user:String} = '' OR user_id = {user:String})`;

/**
 * The same window over the quarter-hour rollup `events_15m`. Exact when the window's ends are
 * whole quarter hours, as local midnights always are.
 */
export const ROLLUP_WINDOW_AND_USER = WINDOW_AND_USER.replace(/\btimestamp\b/g, 'bucket');

/** The calendar day of a rollup bucket in the viewer's zone. */
export const ROLLUP_DAY = `toString(toDate(bucket, {tz:String}))`;

/** The calendar day of an event in the viewer's zone, as a Date. */
export const LOCAL_DATE = `toDate(timestamp, {tz:String})`;

/** The calendar day of an event in the viewer's zone, as 'YYYY-MM-DD'. */
export const DAY = `toString(${LOCAL_DATE})`;

export function filterParams(f: Filter): Params {
  return {
    from_ms: Math.floor(f.fromMs),
    to_ms: Math.floor(f.toMs),
    user: f.scope === 'me' ? f.userId : '',
    tz: f.timeZone,
  };
}

/** A timestamp as the viewer's local wall-clock time, 'YYYY-MM-DD hh:mm:ss'. */
export function localTime(column: string): string {
  return `toString(toDateTime(${column}, {tz:String}))`;
}
