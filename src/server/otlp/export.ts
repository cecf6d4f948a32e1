import { decodeExport, type Encoding, type Signal } from './decode';
import type { Ingest } from '../ingest';
import type { ReceiverStats } from '../receiver-stats';
import { applyTeamPolicy, type TeamPolicy } from '../team/privacy';

/** Decode, store, count: the transport-independent part of an OTLP Export call. */
export class ExportHandler {
  constructor(private readonly ingest: Pick<Ingest, 'write' | 'announce'>, readonly stats: ReceiverStats) {}

  /**
   * The receivers call this as soon as an export's request arrives, before its body is read: the returned
   * function goes to `handle` (or is called when the request is refused earlier). See Ingest.announce.
   */
  announce(signal: Signal): () => void {
    return this.ingest.announce(signal);
  }

  /**
   * `team`: on a team server, the sender's identity and the team's privacy level, applied before storage.
   * `arrived`: what `announce` returned for this export; called once its rows are queued or it was refused.
   */
  async handle(signal: Signal, body: Uint8Array, encoding: Encoding, team?: TeamPolicy, arrived?: () => void): Promise<number> {
    let decoded;
    let filtered: ReturnType<typeof applyTeamPolicy> | undefined;
    let stored: Promise<void>;
    try {
      try {
        decoded = decodeExport(signal, body, encoding);
      } catch (err) {
        this.stats.rejected[signal]++;
        throw err;
      }
      filtered = team ? applyTeamPolicy(decoded.rows, team) : undefined;
      // `write` queues the rows before it returns, so an insert waiting for this export finds them.
      stored = this.ingest.write(filtered ? filtered.rows : decoded.rows);
    } finally {
      arrived?.();
    }
    await stored;
    this.stats.accepted(signal, decoded.items);
    team?.onStored?.(decoded.items, filtered!.dropped);
    return decoded.items;
  }
}
