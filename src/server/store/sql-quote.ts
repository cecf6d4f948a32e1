/** Quoting for the few names and values the server itself puts into SQL text. */

/** A ClickHouse identifier in backquotes (`a\`b` for a name holding a backquote). */
export function quoteIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** A ClickHouse string literal: backslash and quote escaped, so any text stays one literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
