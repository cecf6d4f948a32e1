/** How the report writes its numbers (Markdown and HTML alike, so both say the same). */
export const usd = (n: number): string => n.toFixed(4);
export const int = (n: number): string => String(Math.round(n));
export const pct = (r: number): string => `${(r * 100).toFixed(2)}%`;

/** Change against the previous week: `+12.5%`, `-3.0%`, `0.0%`, or `new` when it was zero. */
export function change(now: number, before: number): string {
  if (before === 0) return now === 0 ? '0.0%' : 'new';
  const c = ((now - before) / before) * 100;
  return `${c > 0 ? '+' : ''}${c.toFixed(1)}%`;
}

/** Change of a rate, in percentage points. */
export function pointChange(now: number, before: number): string {
  const d = (now - before) * 100;
  return `${d > 0 ? '+' : ''}${d.toFixed(2)} pp`;
}
