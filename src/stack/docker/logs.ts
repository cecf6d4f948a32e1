/** Container output as text lines: Docker multiplexes stdout/stderr into 8-byte-header frames. */
import type Docker from 'dockerode';

/** Splits multiplexed frames (non-TTY containers) into text; tolerates plain text (TTY containers). */
export function demuxBuffer(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const kind = buf[i];
    if (kind !== 0 && kind !== 1 && kind !== 2) return out + buf.subarray(i).toString('utf8');
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}

/** The last lines a container wrote, for error messages ("never got healthy: …"). */
export async function lastLogLines(docker: Docker, containerId: string, lines = 20): Promise<string> {
  try {
    const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demuxBuffer(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).trimEnd();
  } catch {
    return '';
  }
}

/** Streams a container's output line by line, prefixed with its service name, until stopped. */
export async function followLogs(
  docker: Docker,
  containerId: string,
  prefix: string,
  onLine: (line: string) => void,
  sinceSeconds: number,
): Promise<() => void> {
  const stream = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: true, since: sinceSeconds })) as NodeJS.ReadableStream;
  let pending = Buffer.alloc(0);
  let text = '';
  const emit = (chunk: string) => {
    text += chunk;
    const lines = text.split('\n');
    text = lines.pop() ?? '';
    for (const l of lines) onLine(`[${prefix}] ${l}`);
  };
  stream.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      emit(pending.subarray(8, 8 + size).toString('utf8'));
      pending = pending.subarray(8 + size);
    }
  });
  stream.on('error', () => undefined);
  return () => (stream as unknown as { destroy(): void }).destroy();
}
