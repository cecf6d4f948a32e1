import { createServer } from 'node:net';

/** Ports this process already handed out: the OS may offer a just-closed port again. */
const given = new Set<number>();

/**
 * A TCP port that was free on 127.0.0.1 a moment ago and that this process has not handed out
 * before (tests never use the default ports, and one test often needs several distinct ones).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
      });
    });
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}
