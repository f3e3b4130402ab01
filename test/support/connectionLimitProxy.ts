import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that lets at most `limit` connections through at once and drops any more
 * as soon as they arrive, before a byte is forwarded: what a firewall's per-client connection
 * cap, or an SFTP service that allows one login per account, does to a client's extra logins.
 */
export class ConnectionLimitProxy {
  private readonly sockets = new Set<Socket>();
  private open = 0;
  /** Connections let through, and connections dropped for being over the limit. */
  accepted = 0;
  refused = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, limit: number): Promise<ConnectionLimitProxy> {
    let proxy!: ConnectionLimitProxy;
    const server = createServer((client) => proxy.handle(client, targetPort, limit));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new ConnectionLimitProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  private handle(client: Socket, targetPort: number, limit: number): void {
    if (this.open >= limit) {
      this.refused++;
      client.destroy();
      return;
    }
    this.open++;
    this.accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.open--;
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.pipe(upstream);
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
