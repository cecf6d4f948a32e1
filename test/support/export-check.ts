/** Reads an exported file back with a parser of its format (shared by the server and cli tiers). */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

export function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Rows and the column's sum as the file holds them, read by a parser of that format. */
export function readBack(file: string, format: string, column: string): [number, number] {
  if (format === 'csv') {
    const records = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
    return [records.length, column === 'timestamp' ? 0 : records.reduce((s, r) => s + Number(r[column]), 0)];
  }
  if (format === 'jsonl') {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    return [rows.length, column === 'timestamp' ? 0 : rows.reduce((s, r) => s + Number(r[column]), 0)];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as typeof import('chdb');
  const col = column === 'timestamp' ? '0' : `sum(\`${column}\`)`;
  const [c, s] = chdb.query(`SELECT count(), ${col} FROM file('${file.replace(/'/g, "\\'")}', Parquet)`, 'TabSeparated').trim().split('\t');
  return [Number(c), Number(s)];
}

