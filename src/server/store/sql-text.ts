import { StoreError } from './types';

/**
 * The little SQL-text handling the HTTP endpoint needs: spotting an INSERT's target and format,
 * the output FORMAT, and attaching URL settings. Anything more is the engine's job.
 */
export interface InsertTarget {
  table: string;
  columns?: string[];
  format: string;
  settings?: Record<string, string>;
}

const INSERT_RE = /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?((?:`[^`]+`|"[^"]+"|[\w]+)(?:\.(?:`[^`]+`|"[^"]+"|[\w]+))?)\s*(?:\(([^)]*)\))?\s*(?:SETTINGS\s+(.+?)\s+)?FORMAT\s+(\w+)\s*;?\s*$/is;

function unquote(id: string): string {
  return id.trim().replace(/^[`"]|[`"]$/g, '');
}

export function splitInsertStatement(sql: string): InsertTarget | undefined {
  const m = INSERT_RE.exec(sql);
  if (!m) return undefined;
  const [, table, cols, settings, format] = m;
  return {
    table: table!.split('.').map(unquote).join('.'),
    columns: cols ? cols.split(',').map(unquote).filter(Boolean) : undefined,
    format: format!,
    settings: settings ? parseSettingsList(settings) : undefined,
  };
}

function parseSettingsList(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k && v !== undefined) out[k] = v.replace(/^'|'$/g, '');
  }
  return out;
}

/** The FORMAT named at the end of a statement, if any. */
export function formatClause(sql: string): string | undefined {
  const m = /\bFORMAT\s+(\w+)\s*(?:SETTINGS\s+[^;]*)?;?\s*$/i.exec(stripTrailingComments(sql));
  return m?.[1];
}

function stripTrailingComments(sql: string): string {
  return sql.replace(/(--[^\n]*\s*)+$/g, '').trimEnd();
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SETTING_VALUE = /^[A-Za-z0-9_.\-]*$/;

/**
 * Appends URL settings as a trailing SETTINGS clause (ClickHouse accepts it after FORMAT too).
 * Names and values are checked against a strict alphabet: settings arrive from URLs.
 */
export function withSettings(sql: string, settings: Record<string, string> | undefined): string {
  if (!settings) return sql;
  const entries = Object.entries(settings);
  if (entries.length === 0) return sql;
  for (const [k, v] of entries) {
    if (!SETTING_NAME.test(k) || !SETTING_VALUE.test(v)) {
      throw new StoreError(`Code: 115. DB::Exception: Unknown or invalid setting ${k}=${v}`, 115, false);
    }
  }
  const clause = entries.map(([k, v]) => `${k} = ${/^-?[0-9.]+$/.test(v) ? v : `'${v}'`}`).join(', ');
  if (splitInsertStatement(sql)) return sql.replace(/\bFORMAT\s+(\w+)\s*;?\s*$/i, `SETTINGS ${clause} FORMAT $1`);
  return `${sql.replace(/;\s*$/, '')}\nSETTINGS ${clause}`;
}
