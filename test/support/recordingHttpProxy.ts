import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** One request the proxy saw, in order of arrival (no bodies). */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Date.now() on arrival. */
  at: number;
  /** The upstream status, once answered (undefined while held or in flight). */
  status?: number;
}

interface Hold {
  match: (r: ProxiedRequest) => boolean;
  waiting: Array<() => void>;
  released: boolean;
}

/** What `hold()` returns: how many requests wait, and the release of all of them (and of later ones). */
export interface HeldRequests {
  readonly count: number;
  release(): void;
}

/**
 * A plain HTTP reverse proxy on loopback that records every request (method, URL, headers) and
 * forwards it unchanged (Host included, so SigV4 signatures stay valid) to `target`. Point an SDK
 * at `endpoint` (e.g. AWS_ENDPOINT_URL_S3) to see exactly which calls it made with which
 * credentials. `hold(match)` keeps matching requests unanswered until `release()`: a transfer
 * held mid-read, deterministically, without any timing.
 */
export class RecordingHttpProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly holds: Hold[] = [];
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host?: string; port: number }): Promise<RecordingHttpProxy> {
    let proxy!: RecordingHttpProxy;
    const server = createServer((req, res) => proxy.handle(req, res, target.host ?? '127.0.0.1', target.port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new RecordingHttpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests from index `mark` on (take `requests.length` as a mark). */
  since(mark: number): ProxiedRequest[] {
    return this.requests.slice(mark);
  }

  /** Matching requests wait, unforwarded, until `release()`; after it, they pass again. */
  hold(match: (r: ProxiedRequest) => boolean): HeldRequests {
    const hold: Hold = { match, waiting: [], released: false };
    this.holds.push(hold);
    return {
      get count() {
        return hold.waiting.length;
      },
      release: () => {
        hold.released = true;
        this.holds.splice(this.holds.indexOf(hold), 1);
        for (const go of hold.waiting.splice(0)) go();
      },
    };
  }

  async close(): Promise<void> {
    for (const h of [...this.holds]) {
      h.released = true;
      h.waiting.splice(0);
    }
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse, host: string, port: number): void {
    const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: { ...req.headers }, at: Date.now() };
    this.requests.push(seen);
    const forward = (): void => {
      const upstream = request({ host, port, method: req.method, path: req.url, headers: req.headers, agent: this.agent }, (answer) => {
        seen.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    const hold = this.holds.find((h) => !h.released && h.match(seen));
    if (hold) {
      req.pause();
      hold.waiting.push(forward);
    } else {
      forward();
    }
  }
}
