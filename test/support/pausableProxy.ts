import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP forwarder that can freeze every connection at once: `pause()` stops forwarding in
 * both directions on the open connections and on new ones, keeping them open (bytes that arrive
 * meanwhile are held, not delivered), so whatever a client had in flight stays in flight until
 * `resume()`. A sender that goes away while paused takes its held bytes with it and the other end
 * is closed, as a killed process's unsent bytes never reach the server. Used to catch a process
 * with sends in flight at a moment the test chooses; faultProxy.ts stalls one connection after a
 * byte count instead.
 */
export class PausableProxy {
  private readonly sockets = new Set<Socket>();
  /** Each open direction's flush, run again on `resume()`. */
  private readonly flushers = new Set<() => void>();
  private paused = false;
  /** How many connections the proxy accepted. */
  connections = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<PausableProxy> {
    let proxy!: PausableProxy;
    const server = createServer((client) => proxy.handle(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new PausableProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Sockets still open (two per connection: the client's and the upstream one). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Stops forwarding on every connection, open or new, until `resume()`. */
  pause(): void {
    this.paused = true;
  }

  /** Forwards again, held bytes first. */
  resume(): void {
    this.paused = false;
    for (const flush of this.flushers) flush();
  }

  /** Drops every open connection and stops listening. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: Socket, targetPort: number, targetHost: string): void {
    this.connections++;
    const upstream = connect(targetPort, targetHost);
    this.sockets.add(client).add(upstream);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  private pipe(from: Socket, to: Socket): void {
    // Bytes read but not yet written on; while paused the proxy keeps reading (so it sees the
    // sender's end) and holds them here.
    const queue: Buffer[] = [];
    let ended = false;
    let draining = false;
    const flush = (): void => {
      if (to.destroyed) {
        queue.length = 0;
        return;
      }
      while (!this.paused && !draining && queue.length > 0) {
        if (!to.write(queue.shift()!)) {
          draining = true;
          from.pause();
          to.once('drain', () => {
            draining = false;
            from.resume();
            flush();
          });
        }
      }
      if (ended && queue.length === 0 && !draining) to.end();
    };
    this.flushers.add(flush);
    from.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      flush();
    });
    from.on('end', () => {
      ended = true;
      if (this.paused) {
        // What a pause held dies with the sender that ended, as a killed process's unsent bytes do.
        queue.length = 0;
        to.destroy();
        return;
      }
      flush();
    });
    from.on('error', () => {
      from.destroy();
      to.destroy();
    });
    from.on('close', () => {
      this.flushers.delete(flush);
      this.sockets.delete(from);
      if (this.paused) to.destroy();
    });
  }
}
