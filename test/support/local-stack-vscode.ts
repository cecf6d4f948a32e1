// What the VS Code tests share about the extension's own (embedded) stack: fresh ports and the settings that point
// the extension at them, and the teardown that stops the server the extension started detached.
import { killStackServers, repoRoot, type VSCode } from './codeserver';
import { freePort } from './ports';
import { runCommand } from './vscode-ui';

export interface StackPorts { grpc: number; otlpHttp: number; http: number }

/** Three ports no other test of this process holds (the default ports are never used in tests). */
export async function freeStackPorts(): Promise<StackPorts> {
  return { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
}

/** The settings that make the extension run its embedded server from this checkout, on `ports`, storing in `dataDir`. */
export function localStackSettings(ports: StackPorts, dataDir: string): Record<string, unknown> {
  return {
    'chapterTelemetry.grpcPort': ports.grpc,
    'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
    'chapterTelemetry.httpPort': ports.http,
    'chapterTelemetry.enginePath': repoRoot,
    'chapterTelemetry.dataDir': dataDir,
  };
}

/**
 * SIGTERMs the server the extension started: it is detached on purpose (it outlives a window), so closing VS Code
 * leaves it running; its pid is in the state file in the test's user-data dir. (`vs.close()` does it too.)
 */
export function killServerFromState(vs: VSCode | undefined): void {
  if (vs) killStackServers(vs.userDataDir);
}

/**
 * The `after` of a test that launched VS Code on the local stack: stops collection through the palette first when
 * asked (best effort: a failed test may have left the window in any state), then kills the detached server and
 * closes VS Code. Does nothing if VS Code never started.
 */
export async function closeVSCodeAndStack(vs: VSCode | undefined, opts: { stopCollection: boolean }): Promise<void> {
  if (!vs) return;
  if (opts.stopCollection) await runCommand(vs.page, 'Chapter Telemetry: Stop Collection').catch(() => undefined);
  killServerFromState(vs);
  await vs.close();
}
