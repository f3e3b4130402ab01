import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** How the next transfer started on a connector ends. */
export type ScriptedOutcome =
  | { status: 'COMPLETED'; afterPolls?: number }
  | { status: 'FAILED'; afterPolls?: number; failureCode: string; failureMessage?: string }
  /** Never finishes (IN_PROGRESS forever). */
  | { status: 'STUCK' };

interface Transfer {
  id: string;
  connectorId: string;
  sendFilePaths: string[];
  remoteDirectoryPath?: string;
  outcome: ScriptedOutcome;
  polls: number;
}

/** What the fake saw of one request. */
export interface SeenTransferRequest {
  target: string;
  body: Record<string, unknown>;
  signedFor?: string;
}

/**
 * The two AWS Transfer Family calls an SFTP connector send needs, on the service's real wire
 * protocol (awsJson1_1): `POST /` with `x-amz-target: TransferService.StartFileTransfer` or
 * `TransferService.ListFileTransferResults`, `content-type: application/x-amz-json-1.1`, a JSON
 * body with PascalCase members and a JSON answer. Errors go out with the exception name in both
 * the body's `__type` and `x-amzn-errortype`, as AWS sends them.
 *
 * Each transfer follows a script: QUEUED at the first poll, IN_PROGRESS until `afterPolls`, then
 * COMPLETED or FAILED with the scripted FailureCode. Requests must carry a SigV4 Authorization
 * for the `transfer` service (the signature itself is not checked).
 */
export class FakeTransferFamily {
  readonly requests: SeenTransferRequest[] = [];
  readonly transfers: Transfer[] = [];
  private readonly connectors = new Set<string>();
  private readonly scripts = new Map<string, ScriptedOutcome[]>();
  private readonly faults: Array<{ status: number; type: string; target?: string }> = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<FakeTransferFamily> {
    let fake!: FakeTransferFamily;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeTransferFamily(server, (server.address() as { port: number }).port);
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A new connector ID, in the real `c-` + 17 hex form. */
  addConnector(): string {
    const id = `c-${randomBytes(9).toString('hex').slice(0, 17)}`;
    this.connectors.add(id);
    return id;
  }

  /** The next transfers started on `connectorId` end like this, in order (then COMPLETED after one poll). */
  script(connectorId: string, ...outcomes: ScriptedOutcome[]): void {
    this.scripts.set(connectorId, [...(this.scripts.get(connectorId) ?? []), ...outcomes]);
  }

  /** The next request (of `target`, if given) gets this error. */
  failNext(status: number, type: string, target?: string): void {
    this.faults.push({ status, type, target });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, text: string, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return this.error(res, 400, 'SerializationException', 'The request body is not JSON.');
    }
    const auth = String(req.headers.authorization ?? '');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    this.requests.push({ target, body, signedFor: scope ? `${scope[1]}/${scope[2]}` : undefined });
    if (req.method !== 'POST' || req.url !== '/') return this.error(res, 404, 'UnknownOperationException', 'Only POST / is served.');
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return this.error(res, 400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1.');
    if (!scope || scope[2] !== 'transfer') return this.error(res, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const faultAt = this.faults.findIndex((f) => !f.target || `TransferService.${f.target}` === target);
    if (faultAt >= 0) {
      const [fault] = this.faults.splice(faultAt, 1);
      return this.error(res, fault!.status, fault!.type, `${fault!.type} (scripted)`);
    }
    const connectorId = String(body.ConnectorId ?? '');
    if (target === 'TransferService.StartFileTransfer') {
      if (!this.connectors.has(connectorId)) return this.error(res, 400, 'ResourceNotFoundException', `Unknown connector: ${connectorId}`);
      const paths = body.SendFilePaths;
      if (!Array.isArray(paths) || paths.length < 1 || paths.length > 10 || !paths.every((p) => typeof p === 'string' && p.startsWith('/'))) {
        return this.error(res, 400, 'InvalidRequestException', 'SendFilePaths must hold 1 to 10 paths of the form /bucket/key.');
      }
      const outcome = this.scripts.get(connectorId)?.shift() ?? { status: 'COMPLETED', afterPolls: 1 };
      const transfer: Transfer = {
        id: randomUUID(),
        connectorId,
        sendFilePaths: paths as string[],
        remoteDirectoryPath: typeof body.RemoteDirectoryPath === 'string' ? body.RemoteDirectoryPath : undefined,
        outcome,
        polls: 0,
      };
      this.transfers.push(transfer);
      return this.send(res, 200, { TransferId: transfer.id });
    }
    if (target === 'TransferService.ListFileTransferResults') {
      if (!this.connectors.has(connectorId)) return this.error(res, 400, 'ResourceNotFoundException', `Unknown connector: ${connectorId}`);
      const transfer = this.transfers.find((t) => t.id === body.TransferId && t.connectorId === connectorId);
      if (!transfer) return this.error(res, 400, 'ResourceNotFoundException', `Unknown transfer: ${String(body.TransferId)}`);
      transfer.polls++;
      return this.send(res, 200, { FileTransferResults: transfer.sendFilePaths.map((p) => this.resultOf(transfer, p)) });
    }
    return this.error(res, 400, 'UnknownOperationException', `This fake serves StartFileTransfer and ListFileTransferResults, not ${target}.`);
  }

  private resultOf(t: Transfer, sourcePath: string): Record<string, string> {
    const name = sourcePath.slice(sourcePath.lastIndexOf('/') + 1);
    const FilePath = `${(t.remoteDirectoryPath ?? '').replace(/\/$/, '')}/${name}`;
    const o = t.outcome;
    const finished = o.status !== 'STUCK' && t.polls >= (o.afterPolls ?? 1);
    if (!finished) return { FilePath, StatusCode: t.polls <= 1 ? 'QUEUED' : 'IN_PROGRESS' };
    if (o.status === 'COMPLETED') return { FilePath, StatusCode: 'COMPLETED' };
    return { FilePath, StatusCode: 'FAILED', FailureCode: o.failureCode, ...(o.failureMessage ? { FailureMessage: o.failureMessage } : {}) };
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    this.send(res, status, { __type: type, Message: message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.transfer/` });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(text);
  }
}
