import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that injects real network faults: after `afterBytes` bytes have gone in
 * `direction` on a connection it cuts it (close), resets it (RST) or stalls it (stops forwarding
 * but keeps it open, as a dead NAT does). Used to test resume, retry and idle timeouts for real.
 */
export type FaultAction = 'cut' | 'reset' | 'stall';

export interface FaultRule {
  action: FaultAction;
  afterBytes: number;
  /** 'up' = client to server (uploads), 'down' = server to client. Default 'up'. */
  direction?: 'up' | 'down';
  /** How many connections the fault hits before it disarms. Default 1, so the retry gets through. */
  times?: number;
}

export class FaultProxy {
  private rule?: FaultRule & { left: number };
  private readonly sockets = new Set<Socket>();
  /** How many connections the proxy accepted. */
  connections = 0;
  /** How many faults fired. */
  faultsFired = 0;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    let proxy!: FaultProxy;
    const server = createServer((client) => proxy.handle(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Arms a fault for the next connection(s); `undefined` disarms. */
  setFault(rule: FaultRule | undefined): void {
    this.rule = rule ? { ...rule, left: rule.times ?? 1 } : undefined;
  }

  private handle(client: Socket, targetPort: number, targetHost: string): void {
    this.connections++;
    const upstream = connect(targetPort, targetHost);
    this.sockets.add(client).add(upstream);
    const rule = this.rule && this.rule.left > 0 ? this.rule : undefined;
    if (rule) rule.left--;
    spliceWithFault(client, upstream, rule, { fired: () => this.faultsFired++, closed: (s) => this.sockets.delete(s) });
  }

  /** Drops every open connection (stalled ones included) and stops listening. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Drops every open connection now, as a network outage would. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}

/**
 * Forwards bytes both ways between two sockets and, once `rule`'s byte count has gone in its
 * direction, cuts, resets or stalls the pair. Shared by this proxy and the FTP-aware one.
 */
export function spliceWithFault(
  client: Socket,
  upstream: Socket,
  rule: FaultRule | undefined,
  hooks: { fired(): void; closed(socket: Socket): void },
): void {
  let stalled = false;
  const fire = (): void => {
    hooks.fired();
    if (!rule) return;
    if (rule.action === 'stall') {
      stalled = true;
    } else if (rule.action === 'reset') {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    } else {
      client.destroy();
      upstream.destroy();
    }
  };
  const pipe = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
    let seen = 0;
    from.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (rule && (rule.direction ?? 'up') === direction && seen + chunk.length >= rule.afterBytes) {
        const keep = Math.max(0, rule.afterBytes - seen);
        seen += keep;
        if (keep > 0) to.write(chunk.subarray(0, keep));
        fire();
        return;
      }
      seen += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => { if (!stalled) to.end(); });
    from.on('error', () => to.destroy());
    from.on('close', () => {
      hooks.closed(from);
      if (!stalled) to.destroy();
    });
  };
  pipe(client, upstream, 'up');
  pipe(upstream, client, 'down');
}
