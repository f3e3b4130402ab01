import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP forwarder in front of a server that can be switched off and on again at the same
 * address: `down()` stops listening and cuts every open connection, so a client then gets a real
 * ECONNREFUSED (an instance that is down, not one that answers errors); `up()` listens on the same
 * port again. Used to take a fake HTTP service "offline" without losing its state.
 */
export class SwitchableTcpProxy {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections accepted while up. */
  connections = 0;

  private constructor(
    server: Server,
    readonly port: number,
    private readonly targetPort: number,
    private readonly targetHost: string,
  ) {
    this.server = server;
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<SwitchableTcpProxy> {
    let proxy!: SwitchableTcpProxy;
    const server = createServer((client) => proxy.handle(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new SwitchableTcpProxy(server, (server.address() as { port: number }).port, targetPort, targetHost);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.server.listening;
  }

  /** Stops accepting connections and cuts the open ones: the address now refuses connections. */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens on the same port again. */
  async up(): Promise<void> {
    if (this.server.listening) return;
    const server = createServer((client) => this.handle(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    await this.down();
  }

  private handle(client: Socket): void {
    this.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
