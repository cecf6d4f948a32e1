/**
 * Calls `probe` until it returns a value other than undefined (a throw counts as "not yet"), every `everyMs`;
 * after `timeoutMs` fails saying what it waited for and the probe's last error. The one polling loop of the
 * VS Code tier: every wait there is for something the workbench or a server does in its own time.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await probe().catch((e: unknown) => { last = e; return undefined; });
    if (v !== undefined) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
