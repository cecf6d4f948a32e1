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
  /** Formats that are one document (binary files with a footer, one JSON object): no streaming. */
  | { kind: 'whole' };

const WHOLE = new Set([
  'parquet', 'arrow', 'orc', 'avro', 'json', 'jsoncompact', 'jsonstrings', 'jsoncompactstrings',
  'jsoncolumns', 'jsoncompactcolumns', 'jsoncolumnswithmetadata', 'jsonobjecteachrow', 'xml', 'pretty',
  'prettycompact', 'prettyspace', 'prettynoescapes', 'prettycompactmonoblock', 'markdown', 'npy',
]);

export function chunkJoin(format: string): ChunkJoin {
  const f = format.toLowerCase();
  if (WHOLE.has(f)) return { kind: 'whole' };
  // RowBinaryWithNames… carry their header in binary; the client reads it once, so they go whole too.
  if (f.startsWith('rowbinary') && f.includes('withnames')) return { kind: 'whole' };
  if (f.endsWith('withnamesandtypes')) return { kind: 'strip-header', lines: 2 };
  if (f.endsWith('withnames')) return { kind: 'strip-header', lines: 1 };
  return { kind: 'concat' };
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

/** Binary one-document formats the engine can write to a file as it computes (chdb.ts streams that file). */
const SPOOLABLE = new Set(['parquet', 'arrow', 'orc', 'avro']);
const TRAILING_FORMAT = /\s+FORMAT\s+(\w+)\s*;?\s*$/i;

/**
 * The statement without its trailing `FORMAT x`, and the format, when the result is a binary one-document
 * format that ends the statement (nothing such as SETTINGS after it, where adding INTO OUTFILE would
 * change the grammar). Undefined otherwise: such results are then produced whole.
 */
export function spoolableOutput(sql: string, defaultFormat: string | undefined): { statement: string; format: string } | undefined {
  const text = sql.replace(/(\s*--[^\n]*)+\s*$/, '').trimEnd();
  const m = TRAILING_FORMAT.exec(text);
  const format = m?.[1] ?? (/\bFORMAT\b/i.test(text) ? undefined : defaultFormat);
  if (!format || !SPOOLABLE.has(format.toLowerCase())) return undefined;
  const statement = m ? text.slice(0, m.index) : text.replace(/;\s*$/, '');
  if (/\bINTO\s+OUTFILE\b/i.test(statement)) return undefined;
  return { statement, format };
}
