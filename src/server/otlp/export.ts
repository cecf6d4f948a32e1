import { decodeExport, type Encoding, type Signal } from './decode';
import type { Ingest } from '../ingest';
import type { ReceiverStats } from '../receiver-stats';
import { applyTeamPolicy, type TeamPolicy } from '../team/privacy';

/** Decode, store, count: the transport-independent part of an OTLP Export call. */
export class ExportHandler {
  constructor(private readonly ingest: Ingest, readonly stats: ReceiverStats) {}

  /** `team`: on a team server, the sender's identity and the team's privacy level, applied before storage. */
  async handle(signal: Signal, body: Uint8Array, encoding: Encoding, team?: TeamPolicy): Promise<number> {
    let decoded;
    try {
      decoded = decodeExport(signal, body, encoding);
    } catch (err) {
      this.stats.rejected[signal]++;
      throw err;
    }
    const filtered = team ? applyTeamPolicy(decoded.rows, team) : undefined;
    await this.ingest.write(filtered ? filtered.rows : decoded.rows);
    this.stats.accepted(signal, decoded.items);
    team?.onStored?.(decoded.items, filtered!.dropped);
    return decoded.items;
  }
}
