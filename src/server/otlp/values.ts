/**
 * Shared conversions from decoded OTLP (protobufjs objects or OTLP/JSON, which share field names)
 * to the column values the collector's ClickHouse exporter writes: attributes as a string map,
 * ids as lowercase hex, timestamps as DateTime64(9) text.
 */

/** An OTLP AnyValue as decoded from protobuf (Long, Uint8Array) or JSON (string ints, base64 bytes). */
export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: unknown;
  doubleValue?: number | string | null;
  arrayValue?: { values?: AnyValue[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
  bytesValue?: Uint8Array | string | null;
}
export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

/** A 64-bit integer from protobufjs (Long), JSON (string or number) or absent. */
export type Int64 = { toString(): string } | string | number | null | undefined;

interface LongParts { low: number; high: number; unsigned?: boolean }
const TWO_32 = 4294967296;

/**
 * A 64-bit integer's decimal text, exactly as String() gives it. protobufjs hands int64/fixed64 over as `Long`,
 * whose toString divides in software (with the three timestamps of a log record, a tenth of the receiver's time):
 * a value within ±2^53 is exact as a double, a larger one (nanosecond timestamps) goes through BigInt.
 */
export function int64Text(n: NonNullable<Int64>): string {
  if (typeof n !== 'object') return String(n);
  const { low, high, unsigned } = n as LongParts;
  if (typeof low !== 'number' || typeof high !== 'number') return String(n);
  const hi = unsigned ? high >>> 0 : high | 0;
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * TWO_32 + (low >>> 0));
  return ((BigInt(hi) << 32n) + BigInt(low >>> 0)).toString();
}

function plain(v: AnyValue | null | undefined): unknown {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return Number(int64Text(v.intValue as NonNullable<Int64>));
  if (v.doubleValue != null) return Number(v.doubleValue);
  if (v.arrayValue != null) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue != null) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  if (v.bytesValue != null) return typeof v.bytesValue === 'string' ? v.bytesValue : Buffer.from(v.bytesValue).toString('base64');
  return null;
}

/** The string the exporter stores for a value: strings verbatim, numbers and bools as text, structures as JSON. */
export function anyValueToString(v: AnyValue | null | undefined): string {
  if (v == null) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return int64Text(v.intValue as NonNullable<Int64>);
  if (v.doubleValue != null) return formatDouble(Number(v.doubleValue));
  if (v.boolValue != null) return v.boolValue ? 'true' : 'false';
  const p = plain(v);
  return p == null ? '' : typeof p === 'string' ? p : JSON.stringify(p);
}

function formatDouble(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
}

export function attributesToMap(attrs: KeyValue[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!attrs) return out;
  for (const kv of attrs) if (kv && typeof kv.key === 'string') out[kv.key] = anyValueToString(kv.value);
  return out;
}

/** Trace and span ids: bytes from protobuf, hex already in OTLP/JSON. */
export function idToHex(id: Uint8Array | string | null | undefined): string {
  if (id == null) return '';
  if (typeof id === 'string') return /^[0-9a-fA-F]*$/.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
  return id.length === 0 ? '' : Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

/**
 * Nanoseconds since the epoch as DateTime64(9) text "seconds.nanoseconds" (exact; no float
 * rounding). Seconds are padded to ten digits: ClickHouse reads a short number such as "0.0"
 * as a malformed date, and an unset OTLP time (start_time_unix_nano = 0) must land as the epoch.
 */
export function nanosToDateTime64(n: Int64): string {
  const s = n == null ? '0' : int64Text(n);
  if (!/^\d+$/.test(s)) return '0000000000.000000000';
  // DateTime64(9) ends in 2262 (signed 64-bit nanoseconds); a later time is a malformed request, not a store failure.
  if (s.length > 19 || (s.length === 19 && s > '9223372036854775807')) throw new TypeError(`time ${s.slice(0, 25)} ns is beyond 2262`);
  const padded = s.padStart(19, '0');
  return `${padded.slice(0, -9)}.${padded.slice(-9)}`;
}

/** A time's nanoseconds as text, or undefined when unset (absent or 0). */
export function setNanos(n: Int64): string | undefined {
  if (n == null) return undefined;
  const s = int64Text(n);
  return s === '0' || s === '' ? undefined : s;
}

export function isZeroNanos(n: Int64): boolean {
  if (n == null) return true;
  const s = int64Text(n);
  return s === '0' || s === '';
}

/**
 * A numeric column's value: a number, a 64-bit integer from protobufjs (Long) or OTLP/JSON (decimal string), or
 * absent (0). Anything else is a malformed request, refused here (→ 400): passed on, it would make the engine
 * refuse the whole insert, which the receiver must report as "retry later", and the sender would retry forever.
 */
export function toNumber(n: unknown): number {
  if (n == null) return 0;
  const v = typeof n === 'number' ? n : typeof n === 'string' || (typeof n === 'object' && !Array.isArray(n)) ? Number(int64Text(n as NonNullable<Int64>)) : NaN;
  if (!Number.isFinite(v)) throw new TypeError(`expected a number, got ${String(JSON.stringify(n)).slice(0, 40)}`);
  return v;
}

/** An integer column's value (counts are UInt64, offsets and scales Int32, flags UInt32): toNumber, whole and in range. */
function integer(min: number, max: number): (n: unknown) => number {
  return (n) => {
    const v = toNumber(n);
    if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`expected an integer from ${min} to ${max}, got ${v}`);
    return v;
  };
}
export const toCount = integer(0, Number.MAX_SAFE_INTEGER);
export const toInt32 = integer(-(2 ** 31), 2 ** 31 - 1);
export const toUInt32 = integer(0, 2 ** 32 - 1);

/** A list of numbers (bucket counts, bounds, quantiles), each read by `one`. */
export function toNumbers(list: unknown, one: (n: unknown) => number = toNumber): number[] {
  if (list == null) return [];
  if (!Array.isArray(list)) throw new TypeError(`expected a list of numbers, got ${String(JSON.stringify(list)).slice(0, 40)}`);
  return list.map((n) => one(n));
}

/** A string column's value, or '' when absent; anything else is a malformed request (as for toNumber). */
export function toText(s: unknown): string {
  if (s == null) return '';
  if (typeof s === 'string') return s;
  throw new TypeError(`expected a string, got ${String(JSON.stringify(s)).slice(0, 40)}`);
}

/** OTLP/JSON enums may arrive as names ("SEVERITY_NUMBER_INFO") or numbers. */
export function enumNumber(v: unknown, names: readonly string[]): number {
  const i = typeof v === 'string' ? names.indexOf(v) : -1;
  if (i >= 0) return i;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0;
  // Unknown values become 0 (unspecified), as for an enum value a newer sender knows and we do not.
  return Number.isInteger(n) && n >= 0 && n < 256 ? n : 0;
}
