/**
 * Headless export: `npm run export -- [--url http://127.0.0.1:8123] --table T [--from YYYY-MM-DD
 * --to YYYY-MM-DD] --format csv|parquet|jsonl --out FILE`. Progress on stderr; Ctrl-C stops it and
 * leaves no file under FILE (exit 130). Exit codes: 0 done, 1 failed, 2 usage.
 */
import { resolve } from 'node:path';
import { headlessArgs } from './headless-args';
import { ExportRequestError, planExport } from '../core/data/export-plan';
import { EXPORT_TABLES } from '../core/data/tables';
import { exportData } from './export-data';
import { formatBytes } from '../core/data/format-bytes';

const USAGE = `usage: npm run export -- [--url http://127.0.0.1:8123] --table T [--from YYYY-MM-DD --to YYYY-MM-DD] --format csv|parquet|jsonl --out FILE
tables: ${EXPORT_TABLES.map((t) => t.id).join(', ')}`;

async function main(): Promise<number> {
  const values = headlessArgs({
    url: { type: 'string', default: 'http://127.0.0.1:8123' },
    table: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
  }, USAGE);
  if (typeof values === 'number') return values;
  if (!values.table || !values.format || !values.out) {
    process.stderr.write(`--table, --format and --out are required\n${USAGE}\n`);
    return 2;
  }
  const req = { table: values.table, format: values.format, from: values.from, to: values.to };
  try {
    planExport(req);
  } catch (err) {
    if (err instanceof ExportRequestError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const out = resolve(values.out);
  try {
    const r = await exportData({
      ...req, out, target: { url: values.url }, signal: abort.signal,
      onProgress: (p) => process.stderr.write(`progress rows=${p.rows} bytes=${p.bytes} total_rows=${p.totalRows}\n`),
    });
    process.stdout.write(`exported ${r.rows} rows (${formatBytes(r.bytes)}) of ${r.plan.table.id} to ${out}\n`);
    return 0;
  } catch (err) {
    if (abort.signal.aborted) {
      process.stderr.write(`export cancelled; nothing written to ${out}\n`);
      return 130;
    }
    process.stderr.write(`export failed: ${(err as Error).message}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
