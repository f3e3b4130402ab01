import { connect, createServer, type Server, type Socket } from 'node:net';
import { spliceWithFault, type FaultRule } from './faultProxy';
import { MIRROR_HOST } from './ftpTestServer';

/**
 * A fault-injecting proxy for FTP, whose uploads travel on separate passive data connections.
 *
 * It mirrors the server on a second loopback address (127.0.0.2): the control port is proxied
 * untouched, and every port of the server's passive range is proxied to the same port on
 * 127.0.0.1, with the fault rule (cut, reset or stall after N bytes, as in FaultProxy) applied to
 * data connections only. The client reaches the data ports through the proxy because EPSV replies
 * carry only a port (the client dials the control connection's host) and basic-ftp connects PASV
 * replies to the control host too.
 *
 * Why not rewrite the 227/229 replies on the control connection: under FTPS the control connection
 * is encrypted after AUTH TLS, so no proxy can read or rewrite them without breaking the very
 * certificate check under test. Mirroring works the same for FTP and FTPS. FTPS clients connecting
 * here need `servername: 'localhost'` (the test certificate names 127.0.0.1 and localhost).
 */
export class FtpFaultProxy {
  private rule?: FaultRule & { left: number };
  private readonly sockets = new Set<Socket>();
  /** Data connections the proxy accepted. */
  dataConnections = 0;
  /** Faults fired. */
  faultsFired = 0;

  private constructor(private readonly servers: Server[], readonly host: string, readonly port: number) {}

  static async start(target: { port: number; passivePorts: { min: number; max: number } }): Promise<FtpFaultProxy> {
    let proxy!: FtpFaultProxy;
    const listen = (port: number, onConnection: (s: Socket) => void): Promise<Server> =>
      new Promise((resolve, reject) => {
        const server = createServer(onConnection);
        server.once('error', reject);
        server.listen(port, MIRROR_HOST, () => resolve(server));
      });
    const servers: Server[] = [];
    try {
      const control = await listen(0, (client) => proxy.forward(client, target.port, false));
      servers.push(control);
      for (let port = target.passivePorts.min; port <= target.passivePorts.max; port++) {
        servers.push(await listen(port, (client) => proxy.forward(client, port, true)));
      }
    } catch (e) {
      for (const s of servers) s.close();
      throw e;
    }
    proxy = new FtpFaultProxy(servers, MIRROR_HOST, (servers[0]!.address() as { port: number }).port);
    return proxy;
  }

  /** Arms a fault for the next data connection(s); `undefined` disarms. */
  setFault(rule: FaultRule | undefined): void {
    this.rule = rule ? { ...rule, left: rule.times ?? 1 } : undefined;
  }

  private forward(client: Socket, port: number, isData: boolean): void {
    const upstream = connect(port, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let rule: FaultRule | undefined;
    if (isData) {
      this.dataConnections++;
      if (this.rule && this.rule.left > 0) {
        this.rule.left--;
        rule = this.rule;
      }
    }
    spliceWithFault(client, upstream, rule, { fired: () => this.faultsFired++, closed: (s) => this.sockets.delete(s) });
  }

  /** Drops every open connection now, as a network outage would. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Drops every connection (stalled ones included) and stops listening. */
  async close(): Promise<void> {
    this.dropAll();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
