/**
 * chDB's streaming query formats every chunk on its own: a `…WithNames` format repeats its header
 * lines in each chunk, and Parquet/Arrow/ORC/Avro chunks are each a complete file, so joining the
 * chunks as they come gives a CSV with headers in the middle or an unreadable Parquet file (found by
 * the export tests). This says, per output format, how chunks join into one correct result.
 */

export type ChunkJoin =
  | { kind: 'concat' }
  /** Text formats whose first `lines` lines are names (and types): drop them from every later chunk. */
  | { kind: 'strip-header'; lines: number }
  /** Binary file formats (Parquet, Arrow, ORC, Avro): the engine writes them to a temp file, which streams. */
  | { kind: 'file' }
  /** Other one-document formats (one JSON object, a pretty table): answered whole. */
  | { kind: 'whole' };

const FILE = new Set(['parquet', 'arrow', 'orc', 'avro']);
const WHOLE = new Set([
  'json', 'jsoncompact', 'jsonstrings', 'jsoncompactstrings',
  'jsoncolumns', 'jsoncompactcolumns', 'jsoncolumnswithmetadata', 'jsonobjecteachrow', 'xml', 'pretty',
  'prettycompact', 'prettyspace', 'prettynoescapes', 'prettycompactmonoblock', 'markdown', 'npy',
]);

export function chunkJoin(format: string): ChunkJoin {
  const f = format.toLowerCase();
  if (FILE.has(f)) return { kind: 'file' };
  if (WHOLE.has(f)) return { kind: 'whole' };
  // RowBinaryWithNames… carry their header in binary; the client reads it once, so they go whole too.
  if (f.startsWith('rowbinary') && f.includes('withnames')) return { kind: 'whole' };
  if (f.endsWith('withnamesandtypes')) return { kind: 'strip-header', lines: 2 };
  if (f.endsWith('withnames')) return { kind: 'strip-header', lines: 1 };
  return { kind: 'concat' };
}

/**
 * Text formats for bulk results that the engine writes itself into a named pipe (fifo-result.ts) when the
 * statement names its format: one document (one header), formatted the way `INTO OUTFILE` does, which
 * held ~80 MiB where chDB's streamed chunks held ~170 at 10M rows. Other row formats (JSONEachRow: the
 * extension's own small queries) keep the chunked stream.
 */
export function pipedText(format: string): boolean {
  return /^(csv|tsv|tabseparated)/i.test(format);
}

/**
 * Drops the first `lines` lines of a text chunk. Names are quoted in CSV and escaped in TSV, so a
 * newline inside a header is never a raw byte 10 outside quotes; quotes are tracked for CSV.
 */
export function dropHeaderLines(chunk: Uint8Array, lines: number): Uint8Array {
  let inQuote = false;
  let left = lines;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === 34) inQuote = !inQuote;
    else if (b === 10 && !inQuote && --left === 0) return chunk.subarray(i + 1);
  }
  return chunk.subarray(chunk.length);
}

/**
 * The statement with `INTO OUTFILE '<file>'` in front of its trailing FORMAT clause (what the engine
 * needs to write the whole result as one file, streaming to disk), or undefined when the statement
 * names no format itself.
 */
export function intoOutfile(sql: string, quotedFile: string): string | undefined {
  const text = sql.replace(/(--[^\n]*\s*)+$/g, '').trimEnd();
  const m = /\bFORMAT\s+\w+\s*(?:SETTINGS\s+[^;]*)?;?\s*$/i.exec(text);
  if (!m) return undefined;
  return `${text.slice(0, m.index)}INTO OUTFILE ${quotedFile} ${text.slice(m.index).replace(/;\s*$/, '')}`;
}
