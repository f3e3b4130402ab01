import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that caps the rate of a link, as a slow WAN does: every chunk waits until
 * the direction's budget (`bytesPerSecond`, shared by every connection, like one line) allows it,
 * and the sending socket is paused meanwhile, so backpressure reaches the sender through TCP.
 * `setRate(undefined)` lifts the cap. Used where a transfer must run long enough for something to
 * happen in its middle (a process killed mid-transfer); faultProxy.ts cuts and stalls instead.
 */
export class ThrottledProxy {
  private readonly sockets = new Set<Socket>();
  private rate: number | undefined;
  /** When each direction's line is free again (ms, Date.now() scale). */
  private readonly freeAt = { up: 0, down: 0 };
  /** How many connections the proxy accepted. */
  connections = 0;
  /** Bytes forwarded client → server (uploads), over all connections. */
  bytesUp = 0;

  private constructor(private readonly server: Server, readonly port: number, bytesPerSecond: number | undefined) {
    this.rate = bytesPerSecond;
  }

  static async start(targetPort: number, options: { bytesPerSecond?: number; targetHost?: string } = {}): Promise<ThrottledProxy> {
    let proxy!: ThrottledProxy;
    const server = createServer((client) => proxy.handle(client, targetPort, options.targetHost ?? '127.0.0.1'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new ThrottledProxy(server, (server.address() as { port: number }).port, options.bytesPerSecond);
    return proxy;
  }

  /** Changes the cap for every chunk from now on; `undefined` forwards at full speed. */
  setRate(bytesPerSecond: number | undefined): void {
    this.rate = bytesPerSecond;
    this.freeAt.up = this.freeAt.down = 0;
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
    this.pipe(client, upstream, 'up');
    this.pipe(upstream, client, 'down');
  }

  /** Milliseconds `bytes` must wait on `direction`'s line, reserving its share of the budget. */
  private reserve(direction: 'up' | 'down', bytes: number): number {
    if (!this.rate) return 0;
    const now = Date.now();
    const start = Math.max(now, this.freeAt[direction]);
    this.freeAt[direction] = start + (bytes * 1000) / this.rate;
    return start - now;
  }

  private pipe(from: Socket, to: Socket, direction: 'up' | 'down'): void {
    // One chunk at a time, in order: the source stays paused until its chunk has been written.
    let queue = Promise.resolve();
    let closed = false;
    const later = (step: () => Promise<void> | void): void => {
      queue = queue.then(step).catch(() => undefined);
    };
    from.on('data', (chunk: Buffer) => {
      from.pause();
      const wait = this.reserve(direction, chunk.length);
      later(async () => {
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (closed || to.destroyed) return;
        if (direction === 'up') this.bytesUp += chunk.length;
        if (!to.write(chunk)) await new Promise<void>((resolve) => { to.once('drain', resolve); to.once('close', resolve); });
        if (!from.destroyed) from.resume();
      });
    });
    from.on('end', () => later(() => { if (!closed && !to.destroyed) to.end(); }));
    from.on('error', () => undefined);
    from.on('close', (hadError: boolean) => {
      this.sockets.delete(from);
      if (!hadError) return later(() => { if (!to.destroyed) to.end(); });
      // A reset connection: what was read but not yet forwarded is lost, as on a real line.
      closed = true;
      to.destroy();
    });
  }
}
