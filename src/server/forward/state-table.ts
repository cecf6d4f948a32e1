/**
 * The forwarder's progress, kept in the store itself (`default.forward_state`, 0008_forwarding.sql)
 * so it survives restarts with the data it describes: per raw table the target it belongs to, the
 * watermark (everything at or before it is delivered or deliberately skipped), the intent (the
 * range being sent now; after a crash it is sent again exactly) and where the history ends.
 * Written on the server's internal session, never the ingest session.
 */
import type { Store } from '../store/types';
import { quoteString } from '../store/sql-quote';
import type { Pos } from './local-rows';

export interface TableProgress {
  table: string;
  target: string;
  wm: Pos;
  intent: Pos;
  /** The local store's newest block when the target was set: the history is everything up to it. */
  historyBlock: number;
  enabledAt: string;
}

let lastSeq = 0;
/** Increasing versions for ReplacingMergeTree(seq), also across restarts (wall clock in µs). */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

export class ForwardStateTable {
  constructor(private readonly store: Store) {}

  async load(): Promise<Map<string, TableProgress>> {
    const out = (await this.store.query(
      'SELECT tbl, argMax(target, seq), argMax(wm_block, seq), argMax(wm_chunk, seq), argMax(intent_block, seq), argMax(intent_chunk, seq), ' +
        "argMax(history_block, seq), formatDateTime(argMax(enabled_at, seq), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') FROM default.forward_state GROUP BY tbl",
      { format: 'JSONCompactEachRow' },
    )).toString('utf8');
    const m = new Map<string, TableProgress>();
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [table, target, wb, wc, ib, ic, hb, at] = JSON.parse(line) as [string, string, string | number, string | number, string | number, string | number, string | number, string];
      m.set(table, { table, target, wm: { block: Number(wb), chunk: Number(wc) }, intent: { block: Number(ib), chunk: Number(ic) }, historyBlock: Number(hb), enabledAt: at.replace(/(\.\d{3})\d*Z$/, '$1Z') });
    }
    return m;
  }

  async save(p: TableProgress): Promise<void> {
    const at = p.enabledAt.replace('T', ' ').replace('Z', '');
    await this.store.query(
      'INSERT INTO default.forward_state (tbl, target, seq, wm_block, wm_chunk, intent_block, intent_chunk, history_block, enabled_at) VALUES ' +
        `(${quoteString(p.table)}, ${quoteString(p.target)}, ${nextSeq()}, ${Math.trunc(p.wm.block)}, ${Math.trunc(p.wm.chunk)}, ${Math.trunc(p.intent.block)}, ${Math.trunc(p.intent.chunk)}, ${Math.trunc(p.historyBlock)}, ${quoteString(at)})`,
    );
  }
}
