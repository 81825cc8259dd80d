/**
 * What a forward proxy does with a CONNECT: opens a connection to the request's authority (`host:port`,
 * `[v6]:port`), answers 200, and pipes both ways. Used by the proxy tests (unit and integration) with
 * `http.Server`'s or `https.Server`'s 'connect' event.
 */
import net from 'node:net';

export function openTunnel(authority: string, client: net.Socket, head: Buffer): void {
  const host = authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const port = Number(authority.split(':').pop());
  const up = net.connect(port, host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(client);
    client.pipe(up);
  });
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
}
