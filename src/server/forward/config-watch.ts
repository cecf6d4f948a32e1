/**
 * `<dataDir>/forward.json` as the running server sees it: re-read when its stat signature (inode,
 * size, mtime) changes, checked once per forwarder tick, so the extension's atomic rewrite (temp +
 * rename: a new inode) takes effect without a restart. A file others may read is refused: it holds
 * the member's secret.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FORWARD_CONFIG_FILE, parseForwardConfig, type ForwardConfig } from '../../core/forward-config';

export interface WatchedConfig {
  config?: ForwardConfig;
  /** Why the file present is not used (unreadable, invalid, readable by others). */
  error?: string;
}

export class ForwardConfigWatch {
  private signature = '';
  private last: WatchedConfig = {};
  readonly path: string;

  constructor(dataDir: string, private readonly log: (line: string) => void) {
    this.path = join(dataDir, FORWARD_CONFIG_FILE);
  }

  current(): WatchedConfig {
    let sig: string;
    let mode = 0;
    try {
      const st = statSync(this.path, { bigint: true });
      sig = `${st.ino}:${st.size}:${st.mtimeNs}:${st.mode}`;
      mode = Number(st.mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return this.set('?', { error: `cannot read ${this.path}: ${(err as Error).message}` });
      return this.set('absent', {});
    }
    if (sig === this.signature) return this.last;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      return this.set(sig, { error: `${this.path} is readable by other users (mode ${(mode & 0o777).toString(8)}): forwarding stays off until it is 0600 (it holds the team secret)` });
    }
    try {
      return this.set(sig, { config: parseForwardConfig(readFileSync(this.path, 'utf8')) });
    } catch (err) {
      return this.set(sig, { error: (err as Error).message });
    }
  }

  private set(sig: string, w: WatchedConfig): WatchedConfig {
    if (sig !== this.signature) {
      this.signature = sig;
      const c = w.config;
      this.log(w.error ? `forward: ${w.error}` : c ? `forward: ${c.enabled ? 'enabled' : c.drop_queue ? 'off, queue dropped' : 'paused'} → team "${c.team}" as ${c.member} (privacy ${c.privacy}, history ${c.history})` : 'forward: off (no forward.json)');
    }
    this.last = w;
    return w;
  }
}
