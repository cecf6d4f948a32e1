/** Calendar arithmetic in the process's local zone (the zone the author sees in VS Code). */

export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Local midnight `daysBack` days before `now` (0 = today's midnight), in epoch ms. */
export function midnightMs(now: Date, daysBack: number): number {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack);
  return d.getTime();
}

/** 'YYYY-MM-DD' of a local date. */
export function dayKey(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Every local day from `fromMs` up to (not including) `toMs`, as 'YYYY-MM-DD'. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  const start = new Date(fromMs);
  for (let i = 0; ; i++) {
    const d = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i);
    if (d.getTime() >= toMs) break;
    out.push(dayKey(d));
  }
  return out;
}

/** Puts rows keyed by `day` onto the full list of days, with `empty(day)` where a day has no row. */
export function fillDays<R extends { day: string }>(days: string[], rows: R[], empty: (day: string) => R): R[] {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return days.map((d) => byDay.get(d) ?? empty(d));
}
