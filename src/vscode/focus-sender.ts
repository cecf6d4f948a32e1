/** Sends the chapter_focus record to the current OTLP HTTP endpoint (fire and forget, logged). */
import { buildFocusLogRequest, type FocusRecord } from '../core/otlp-log';

export async function sendFocus(url: string, record: FocusRecord, log: (line: string) => void): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(buildFocusLogRequest(record)),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) {
      log(`chapter_focus to ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
      return false;
    }
    log(`chapter_focus sent: ${record.chapter}${record.file ? ` (${record.file})` : ''}`);
    return true;
  } catch (e) {
    log(`chapter_focus to ${url} failed: ${(e as Error).message}`);
    return false;
  }
}
