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

/**
 * An INSERT whose rows are not in its text (`INSERT INTO t … FORMAT X` ending there): its data is the
 * request body, possibly empty. Column lists may nest parentheses (`(* EXCEPT (c))`).
 */
export function insertAwaitsData(sql: string): boolean {
  const text = stripTrailingComments(sql);
  return /^\s*INSERT\s+INTO\b/i.test(text) && /\bFORMAT\s+\w+\s*;?$/i.test(text) && !/\bSELECT\b/i.test(text.replace(/'(?:[^'\\]|\\[\s\S])*'/g, "''"));
}

const INLINE_INSERT_HEAD = /^\s*INSERT\s+INTO\s+[^;]*?\bFORMAT\s+(\w+)[ \t]*(?:\r?\n|$)/i;

/**
 * An INSERT whose rows follow its statement in the same body (`INSERT INTO t FORMAT CSV\n1,2`), split
 * as ClickHouse splits it: the statement ends after the format name and its line break, the rest is
 * data, bytes untouched (binary formats included).
 */
export function splitInlineInsert(body: Buffer): { sql: string; data: Buffer } | undefined {
  const head = body.subarray(0, 64 * 1024).toString('latin1');
  const m = INLINE_INSERT_HEAD.exec(head);
  if (!m) return undefined;
  const end = m[0].length;
  if (end >= body.length) return undefined;
  return { sql: body.subarray(0, end).toString('utf8').trimEnd(), data: body.subarray(end) };
}
