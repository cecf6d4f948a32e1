/** ISO 8601 weeks (Monday first; week 1 holds the year's first Thursday), cut in UTC. */

const WEEK = /^(\d{4})-W(\d{2})$/;
const DAY_MS = 86_400_000;

export interface IsoWeek {
  /** `2026-W48` */
  id: string;
  /** Monday, `YYYY-MM-DD`. */
  start: string;
  /** The next Monday (half-open end). */
  end: string;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Monday of ISO week 1 of `year`, epoch ms. */
function week1Monday(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const dow = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - dow * DAY_MS;
}

function weeksIn(year: number): number {
  return Math.round((week1Monday(year + 1) - week1Monday(year)) / (7 * DAY_MS));
}

export function parseIsoWeek(id: string): IsoWeek | undefined {
  const m = WEEK.exec(id);
  if (!m) return undefined;
  const year = Number(m[1]);
  const w = Number(m[2]);
  if (w < 1 || w > weeksIn(year)) return undefined;
  const start = week1Monday(year) + (w - 1) * 7 * DAY_MS;
  return { id, start: day(start), end: day(start + 7 * DAY_MS) };
}

/** The ISO week holding the UTC day of `ms`. */
export function isoWeekOf(ms: number): IsoWeek {
  const d = new Date(ms);
  const monday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const w = Math.round((monday - week1Monday(year)) / (7 * DAY_MS)) + 1;
  return { id: `${year}-W${String(w).padStart(2, '0')}`, start: day(monday), end: day(monday + 7 * DAY_MS) };
}

export function previousWeek(w: IsoWeek): IsoWeek {
  return isoWeekOf(Date.parse(`${w.start}T00:00:00Z`) - DAY_MS);
}

/** The last week that has ended by `nowMs` (the default of the report). */
export function lastFullWeek(nowMs: number): IsoWeek {
  return previousWeek(isoWeekOf(nowMs));
}

/** The seven days of a week, `YYYY-MM-DD`. */
export function weekDays(w: IsoWeek): string[] {
  const start = Date.parse(`${w.start}T00:00:00Z`);
  return Array.from({ length: 7 }, (_, i) => day(start + i * DAY_MS));
}
