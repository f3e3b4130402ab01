import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that makes a long link out of a short one: every chunk it reads is written
 * on `oneWayDelayMs` later, in order, in each direction, so a round trip takes twice that (this
 * kernel has no `tc netem`). Unlike test/support/throttledProxy.ts it does not pause the sender
 * while a chunk waits: a real long link holds a round trip's worth of bytes in flight, and a
 * protocol whose window is smaller than that is what this is here to show. The sender is paused
 * only while the far side's socket buffer is full, or when more than `maxInFlightBytes` wait in
 * one direction (a bound on this process's memory, far above any SSH window).
 *
 * What it does not model: loss, a rate cap, and TCP's own slow start over the long path (each
 * side's TCP sees a short loopback hop to the proxy). Application windows are what it shows.
 */
export class DelayProxy {
  private readonly sockets = new Set<Socket>();
  /** Connections accepted so far. */
  connections = 0;

  private constructor(private readonly server: Server, readonly port: number, readonly oneWayDelayMs: number, private readonly maxInFlightBytes: number) {}

  static async start(targetPort: number, options: { oneWayDelayMs: number; targetHost?: string; maxInFlightBytes?: number }): Promise<DelayProxy> {
    let proxy!: DelayProxy;
    const server = createServer((client) => proxy.handle(client, targetPort, options.targetHost ?? '127.0.0.1'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new DelayProxy(server, (server.address() as { port: number }).port, options.oneWayDelayMs, options.maxInFlightBytes ?? 256 * 1024 * 1024);
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: Socket, targetPort: number, targetHost: string): void {
    this.connections++;
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      this.sockets.add(s);
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  private pipe(from: Socket, to: Socket): void {
    const queue: { due: number; chunk: Buffer | null }[] = [];
    let queued = 0;
    let timer: NodeJS.Timeout | undefined;
    let waitingForDrain = false;

    const flush = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.due <= now && !waitingForDrain) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) return;
        if (chunk === null) {
          to.end();
          return;
        }
        queued -= chunk.length;
        if (!to.write(chunk)) {
          waitingForDrain = true;
          from.pause();
          to.once('drain', () => {
            waitingForDrain = false;
            if (queued < this.maxInFlightBytes && !from.destroyed) from.resume();
            flush();
          });
        }
      }
      if (!waitingForDrain && queued < this.maxInFlightBytes && from.isPaused() && !from.destroyed) from.resume();
      schedule();
    };
    const schedule = (): void => {
      if (timer || waitingForDrain || queue.length === 0) return;
      timer = setTimeout(flush, Math.max(0, queue[0]!.due - performance.now()));
    };

    from.on('data', (chunk: Buffer) => {
      queue.push({ due: performance.now() + this.oneWayDelayMs, chunk });
      queued += chunk.length;
      if (queued >= this.maxInFlightBytes) from.pause();
      schedule();
    });
    // The end of the stream travels the same delay as the bytes before it.
    from.on('end', () => {
      queue.push({ due: performance.now() + this.oneWayDelayMs, chunk: null });
      schedule();
    });
    from.on('error', () => undefined);
    from.on('close', (hadError: boolean) => {
      this.sockets.delete(from);
      if (hadError) {
        // A reset: what was still on the line is lost, as on a real one.
        queue.length = 0;
        if (timer) clearTimeout(timer);
        to.destroy();
      }
    });
  }
}
