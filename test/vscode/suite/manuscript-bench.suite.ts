// Measurement (not a test) for bench/extension-host-manuscript.bench.ts, inside the real extension host: the host
// thread's event-loop delay (perf_hooks.monitorEventLoopDelay, which samples this very thread) while the extension
// counts a 2,000-file workspace (chapterTelemetry.internal.manuscript: the worker-thread counter the Chapters panel
// uses, cold), against the same counting done on the host thread itself (the baseline a counter without a worker
// would be) and against idle. Registered only when CT_BENCH_MANUSCRIPT is set; prints one `CT_BENCH_MANUSCRIPT {…}`
// line for the bench to read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { countWords } from '../../../src/core/words';

interface Figures { ms: number; p50: number; p99: number; max: number; stall: number; words: number }

/**
 * Runs `work` while two samplers watch this thread: the perf_hooks histogram, and a 5 ms interval recording how late
 * each tick came (`stall`: the longest; it also catches a loop that is blocked for the whole of `work`).
 */
async function measure(work: () => Promise<number>): Promise<Figures> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  let stall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 5);
    last = now;
  }, 5);
  h.enable();
  const t0 = performance.now();
  // Let both samplers start before the work does.
  await new Promise((r) => setTimeout(r, 20));
  const words = await work();
  const ms = performance.now() - t0 - 20;
  // One more turn of the loop, so a stall that lasted until the end is recorded too.
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(timer);
  const toMs = (ns: number) => ns / 1e6;
  return { ms, p50: toMs(h.percentile(50)), p99: toMs(h.percentile(99)), max: toMs(h.max), stall, words };
}

export function registerManuscriptBenchSuite(): void {
  if (!process.env.CT_BENCH_MANUSCRIPT) return;
  describe('manuscript bench', () => {
    it('measures the extension host\'s event-loop delay while counting', async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      const idle = await measure(async () => {
        await new Promise((r) => setTimeout(r, 3000));
        return 0;
      });
      const worker = await measure(async () => {
        const byChapter = (await vscode.commands.executeCommand('chapterTelemetry.internal.manuscript')) as Record<string, number>;
        return Object.values(byChapter).reduce((a, b) => a + b, 0);
      });
      const files = await vscode.workspace.findFiles('**/*.md');
      assert.equal(files.length, Number(process.env.CT_BENCH_MANUSCRIPT));
      const host = await measure(async () => {
        let total = 0;
        for (const f of files) total += countWords(readFileSync(f.fsPath, 'utf8'), 'markdown');
        return total;
      });
      assert.equal(worker.words, host.words, 'the worker and the host count the same words');
      console.log(`CT_BENCH_MANUSCRIPT ${JSON.stringify({ idle, worker, host, files: files.length })}`);
    });
  });
}
