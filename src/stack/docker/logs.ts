/**
 * Container output as text lines. Docker multiplexes stdout/stderr into 8-byte-header frames (plain
 * text for TTY containers); dockerode's own `modem.demuxStream` takes them apart, so there is one
 * demultiplexer, the library's, for both the last lines and the live follow.
 */
import { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';

/**
 * Feeds `stream` through the library's demultiplexer into `onLine`, one call per complete line
 * (stdout and stderr in the order they arrive); a last unterminated line comes when the stream ends.
 */
function demuxLines(docker: Docker, stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  // A frame may end inside a line or inside a multi-byte character: keep the rest for the next one.
  const decoder = new StringDecoder('utf8');
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += decoder.write(chunk);
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const l of lines) onLine(l);
      done();
    },
  });
  docker.modem.demuxStream(stream, sink, sink);
  stream.on('end', () => {
    text += decoder.end();
    if (text) onLine(text);
    text = '';
  });
}

/** The last lines a container wrote, for error messages ("never got healthy: …"). */
export async function lastLogLines(docker: Docker, containerId: string, lines = 20): Promise<string> {
  try {
    const buf = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines, follow: false });
    const out: string[] = [];
    const stream = Readable.from([buf]);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    demuxLines(docker, stream, (l) => out.push(l));
    await ended;
    return out.join('\n').trimEnd();
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
  const stream = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, follow: true, since: sinceSeconds });
  demuxLines(docker, stream, (l) => onLine(`[${prefix}] ${l}`));
  stream.on('error', () => undefined);
  return () => (stream as Readable).destroy();
}
