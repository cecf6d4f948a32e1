/**
 * Client sessions (ClickHouse HTTP `session_id`): one dedicated engine session per identity and id, where
 * the client's temporary tables, `SET`s and `USE` live between requests. As in ClickHouse, a session runs
 * one statement at a time (a second request meanwhile gets SESSION_IS_LOCKED), ends after
 * `session_timeout` idle seconds, and `session_check=1` asks for an existing one. The key includes the
 * identity, so the reader can never reach the writer's session of the same id, nor the other way round.
 */
import { StoreError, type Identity, type SessionRef } from './types';
import type { PooledSession } from './session-pool';

/** ClickHouse's defaults: `session_timeout` 60 s unless given, at most `max_session_timeout` 3600 s. */
export const DEFAULT_SESSION_TIMEOUT = 60;
export const MAX_SESSION_TIMEOUT = 3600;

interface Entry<S> {
  session: S;
  busy: boolean;
  timer?: NodeJS.Timeout;
}

export class NamedSessions<S extends PooledSession> {
  private readonly entries = new Map<string, Entry<S>>();
  private closed = false;

  /**
   * @param make opens a session for an identity with that identity's fixed settings (limits, readonly).
   * @param max how many client sessions each identity may hold at once (each is an engine connection),
   *   counted per identity so anonymous readers can never use up the writer's.
   */
  constructor(private readonly make: (identity: Identity) => Promise<S>, private readonly max = 16) {}

  /** Takes the session for this request, opening it if needed; release() must follow. */
  async acquire(identity: Identity, ref: SessionRef): Promise<S> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const key = `${identity}\u0000${ref.id}`;
    const found = this.entries.get(key);
    if (found) {
      if (found.busy) throw new StoreError(`Code: 373. DB::Exception: Session ${ref.id} is locked by a concurrent client. (SESSION_IS_LOCKED)`, 373, false);
      clearTimeout(found.timer);
      found.busy = true;
      return found.session;
    }
    if (ref.check) throw new StoreError(`Code: 372. DB::Exception: Session ${ref.id} not found. (SESSION_NOT_FOUND)`, 372, false);
    if ([...this.entries.keys()].filter((k) => k.startsWith(`${identity}\u0000`)).length >= this.max) {
      throw new StoreError(`Code: 202. DB::Exception: too many client sessions (${this.max}) are open for this user; wait for one to time out (session_timeout). (TOO_MANY_SIMULTANEOUS_QUERIES)`, 202, true);
    }
    // Reserve the slot before the await, so a concurrent request for the same id sees it as locked.
    const entry = { session: undefined as unknown as S, busy: true } as Entry<S>;
    this.entries.set(key, entry);
    try {
      entry.session = await this.make(identity);
    } catch (err) {
      this.entries.delete(key);
      throw err;
    }
    return entry.session;
  }

  /** Gives the session back; it ends after `timeoutSeconds` idle, or now if `broken`. */
  release(identity: Identity, ref: SessionRef, broken: boolean): void {
    const key = `${identity}\u0000${ref.id}`;
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.busy = false;
    if (broken || this.closed) {
      this.end(key);
      return;
    }
    entry.timer = setTimeout(() => this.end(key), ref.timeoutSeconds * 1000);
    entry.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    this.closed = true;
    for (const key of [...this.entries.keys()]) if (!this.entries.get(key)!.busy) this.end(key);
  }

  private end(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.busy) return;
    clearTimeout(entry.timer);
    this.entries.delete(key);
    try {
      entry.session.close();
    } catch {
      // Closing an abandoned session never matters more than serving the next request.
    }
  }
}

/** `session_timeout` as ClickHouse validates it: a whole number of seconds up to MAX_SESSION_TIMEOUT. */
export function parseSessionTimeout(text: string | null): number {
  if (text === null || text === '') return DEFAULT_SESSION_TIMEOUT;
  if (!/^\d+$/.test(text)) throw new StoreError(`Code: 27. DB::Exception: Cannot parse input: session_timeout '${text}' is not a number of seconds. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)`, 27, false);
  const n = Number(text);
  if (n > MAX_SESSION_TIMEOUT) {
    throw new StoreError(`Code: 36. DB::Exception: Session timeout '${n}' is larger than max_session_timeout: ${MAX_SESSION_TIMEOUT}. (BAD_ARGUMENTS)`, 36, false);
  }
  return n;
}
