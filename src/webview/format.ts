/** How numbers read in the views. Raw values also go into `data-value` for tests and copy. */
export function money(v: number): string {
  if (v === 0) return '$0.00';
  return Math.abs(v) < 0.01 ? `$${v.toFixed(4)}` : `$${v.toFixed(2)}`;
}
export function int(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}
export function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}
export function chapterName(c: string): string {
  return c === '' ? '(no chapter)' : c;
}
export function orNone(s: string): string {
  return s === '' ? '—' : s;
}
