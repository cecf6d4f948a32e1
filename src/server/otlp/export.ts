import { decodeExport, type Encoding, type Signal } from './decode';
import type { Ingest } from '../ingest';
import type { ReceiverStats } from '../receiver-stats';

/** Decode, store, count: the transport-independent part of an OTLP Export call. */
export class ExportHandler {
  constructor(private readonly ingest: Ingest, readonly stats: ReceiverStats) {}

  async handle(signal: Signal, body: Uint8Array, encoding: Encoding): Promise<number> {
    let decoded;
    try {
      decoded = decodeExport(signal, body, encoding);
    } catch (err) {
      this.stats.rejected[signal]++;
      throw err;
    }
    await this.ingest.write(decoded.rows);
    this.stats.accepted(signal, decoded.items);
    return decoded.items;
  }
}
