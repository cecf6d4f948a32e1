/** RFC 4180 CSV for "Copy as CSV": every cell quoted when it needs to be, formulas defused. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

function cell(v: string | number): string {
  let s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  // A chapter name like "=HYPERLINK(…)" must stay text when the CSV is opened in a spreadsheet.
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
