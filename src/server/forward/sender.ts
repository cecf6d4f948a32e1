/**
 * One forward request to the team server: HTTPS trusting only the team CA from forward.json, the
 * member's secret as a bearer token, the rows of one table with their group sizes.
 */
import { Agent, request } from 'node:https';
import type { ForwardConfig } from '../../core/forward-config';
import { FORWARD_GROUPS_HEADER } from '../team/forward-receiver';

export type SendOutcome =
  | { ok: true; stored: number; duplicateGroups: number }
  | { ok: false; error: string; retryAfterMs?: number; status?: number };

export class ForwardSender {
  private agent: Agent | undefined;
  private agentKey = '';

  private agentFor(cfg: ForwardConfig): Agent {
    const key = `${cfg.otlp_http}\n${cfg.ca_pem}`;
    if (!this.agent || this.agentKey !== key) {
      this.agent?.destroy();
      this.agent = new Agent({ ca: cfg.ca_pem, keepAlive: true, maxSockets: 1 });
      this.agentKey = key;
    }
    return this.agent;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  send(cfg: ForwardConfig, table: string, groups: string[][], timeoutMs = 60_000): Promise<SendOutcome> {
    const body = Buffer.from(groups.map((g) => g.join('\n')).join('\n') + '\n');
    const url = new URL(`${cfg.otlp_http}/v1/forward/${encodeURIComponent(table)}`);
    return new Promise((resolve) => {
      let agent: Agent;
      try {
        agent = this.agentFor(cfg);
      } catch (err) {
        resolve({ ok: false, error: `cannot use the team CA certificate from forward.json: ${(err as Error).message}` });
        return;
      }
      const req = request(url, {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: {
          Authorization: `Bearer ${cfg.secret}`,
          'Content-Type': 'application/x-ndjson',
          'Content-Length': body.length,
          [FORWARD_GROUPS_HEADER]: groups.map((g) => g.length).join(','),
        },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text.length < 4096 ? (text += d) : undefined));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 200) {
            try {
              const r = JSON.parse(text) as { stored_rows?: number; duplicate_groups?: number };
              resolve({ ok: true, stored: r.stored_rows ?? 0, duplicateGroups: r.duplicate_groups ?? 0 });
            } catch {
              resolve({ ok: false, status, error: `the team server answered 200 with an unexpected body: ${text.slice(0, 200)}` });
            }
            return;
          }
          const ra = Number(res.headers['retry-after']);
          let said = text.trim();
          try {
            said = (JSON.parse(text) as { error?: string }).error ?? said;
          } catch {
            /* plain text */
          }
          resolve({ ok: false, status, error: `the team server answered ${status}: ${said.slice(0, 300)}`, ...(Number.isFinite(ra) && ra >= 0 ? { retryAfterMs: ra * 1000 } : {}) });
        });
        res.on('error', (err) => resolve({ ok: false, error: `the team server's answer broke off: ${err.message}` }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (err) => resolve({ ok: false, error: `cannot reach the team server at ${cfg.otlp_http}: ${err.message}` }));
      req.end(body);
    });
  }
}
