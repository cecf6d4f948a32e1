/**
 * A plain-HTTP request to a team server's TLS port gets a readable answer instead of a dropped
 * connection: "400, use https://". The first byte of every connection is looked at: a TLS
 * ClientHello starts with 0x16 (handshake record); anything else is not TLS and is answered in
 * plain text and closed, before any of our handlers run, so no data can flow over it.
 * (gRPC's port is grpc-js's own; a plain-text gRPC client there just fails to connect.)
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';

const TLS_HANDSHAKE = 0x16;

export function refusePlainText(server: TlsServer, what: string): void {
  const tlsListeners = server.listeners('connection') as Array<(s: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // A connection that never says anything is not kept (TLS's own handshake timeout starts later).
    socket.setTimeout(30_000, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      if (first[0] === TLS_HANDSHAKE) {
        // Put the byte back: a TLSSocket made over a socket with buffered data reads that data first.
        socket.pause();
        socket.unshift(first);
        for (const l of tlsListeners) l.call(server, socket);
        return;
      }
      const body = `This ${what} port speaks HTTPS only: use https:// and the team CA from your connection bundle.\n`;
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    socket.on('error', () => socket.destroy());
  });
}
