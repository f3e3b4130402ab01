import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

/** One canned answer the gate gives instead of forwarding. */
export interface GateAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What the gate saw of one request (before answering or forwarding it). */
export interface GateRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  answered: boolean;
}

/**
 * A small HTTP server in front of a real storage emulator (s3rver, Azurite) that answers the next
 * requests with queued error responses (503 SlowDown, 500, 403, 412…) and forwards everything else
 * unchanged, Host header included (so request signatures still verify). It records every request,
 * so a test can check what the adapter sent and that the SDK did not retry on its own.
 */
export class HttpErrorGate {
  readonly requests: GateRequest[] = [];
  private readonly queue: GateAnswer[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<HttpErrorGate> {
    let gate!: HttpErrorGate;
    const server = createServer((req, res) => {
      const answer = gate.queue.shift();
      gate.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, answered: answer !== undefined });
      if (answer) {
        req.resume();
        req.on('end', () => {
          res.writeHead(answer.status, { 'content-length': Buffer.byteLength(answer.body ?? ''), ...answer.headers });
          res.end(answer.body ?? '');
        });
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    gate = new HttpErrorGate(server, (server.address() as { port: number }).port);
    return gate;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues answers for the next requests, in order; later requests are forwarded again. */
  answerNext(...answers: GateAnswer[]): void {
    this.queue.push(...answers);
  }

  /** An S3-style XML error answer. */
  static s3Error(status: number, code: string, message: string): GateAnswer {
    return {
      status,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>gate</RequestId></Error>`,
    };
  }

  /** An Azure Storage-style XML error answer (the code also in x-ms-error-code, as HEAD answers carry no body). */
  static azureError(status: number, code: string, message: string): GateAnswer {
    return {
      status,
      headers: { 'content-type': 'application/xml', 'x-ms-error-code': code, 'x-ms-request-id': 'gate' },
      body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
