import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** An error the fake answers with instead of serving the next request. */
export interface SecretsManagerFault {
  status: number;
  /** The exception name, such as ThrottlingException. */
  type: string;
  message?: string;
}

interface StoredSecret {
  arn: string;
  name: string;
  versionId: string;
  string?: string;
  binary?: Buffer;
  created: number;
}

/** What the fake saw of one request. */
export interface SeenRequest {
  target?: string;
  secretId?: string;
  accessKeyId?: string;
}

const ACCOUNT = '123456789012';

/**
 * AWS Secrets Manager's GetSecretValue over its real wire protocol (awsJson1_1), for the real SDK
 * client to talk to: `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue`, a JSON body
 * `{"SecretId": …}` and a JSON answer (ARN, Name, VersionId, SecretString or base64 SecretBinary,
 * VersionStages, CreatedDate in epoch seconds). Every request must carry a SigV4 signature that
 * verifies with the test credentials, scoped to this region and the `secretsmanager` service.
 *
 * Errors go out as AWS sends them: HTTP 400 (or the fault's status) with the exception name both
 * in the body's `__type` and in `x-amzn-errortype`. The SDK's awsJson1_1 deserializer reads the
 * body's `__type` first, then `code`, then the header (@smithy/core loadJsonRpcErrorCode).
 */
export class FakeSecretsManager {
  readonly requests: SeenRequest[] = [];
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly faults: Array<SecretsManagerFault | 'stall'> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly region: string,
    private readonly credentials: { accessKeyId: string; secretAccessKey: string },
  ) {}

  static async start(options: { region: string; accessKeyId: string; secretAccessKey: string }): Promise<FakeSecretsManager> {
    let fake!: FakeSecretsManager;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeSecretsManager(server, (server.address() as { port: number }).port, options.region, options);
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Creates the secret, or gives it a new current version; returns its ARN. */
  put(name: string, value: string | Buffer): string {
    const arn = this.secrets.get(name)?.arn ?? `arn:aws:secretsmanager:${this.region}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    const secret: StoredSecret = { arn, name, versionId: randomUUID(), created: Date.now() / 1000 };
    if (typeof value === 'string') secret.string = value;
    else secret.binary = value;
    this.secrets.set(name, secret);
    return arn;
  }

  /** The next request gets this error instead of an answer. */
  failNext(fault: SecretsManagerFault): void {
    this.faults.push(fault);
  }

  /** The next request is held, never answered (until close). */
  stallNext(): void {
    this.faults.push('stall');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const target = header(req, 'x-amz-target');
    let input: { SecretId?: unknown } = {};
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as { SecretId?: unknown };
    } catch {
      return this.error(res, 400, 'SerializationException', 'The request body is not JSON.');
    }
    const seen: SeenRequest = { target, secretId: typeof input.SecretId === 'string' ? input.SecretId : undefined };
    this.requests.push(seen);
    const fault = this.faults.shift();
    if (fault === 'stall') return;
    if (req.method !== 'POST' || req.url !== '/') return this.error(res, 404, 'UnknownOperationException', 'Only POST / is served.');
    if (header(req, 'content-type') !== 'application/x-amz-json-1.1') {
      return this.error(res, 400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1.');
    }
    const auth = this.authProblem(req, body);
    if (auth) return this.error(res, 400, auth.type, auth.message);
    seen.accessKeyId = this.credentials.accessKeyId;
    if (fault) return this.error(res, fault.status, fault.type, fault.message ?? fault.type);
    if (target !== 'secretsmanager.GetSecretValue') return this.error(res, 400, 'UnknownOperationException', `This fake serves only GetSecretValue, not ${target}.`);
    const secret = [...this.secrets.values()].find((s) => s.name === input.SecretId || s.arn === input.SecretId);
    if (!secret) return this.error(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    this.send(res, 200, {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      ...(secret.string !== undefined ? { SecretString: secret.string } : { SecretBinary: secret.binary!.toString('base64') }),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.created,
    });
  }

  /** Why the SigV4 signature does not verify, as the exception AWS would answer with; undefined when it does. */
  private authProblem(req: IncomingMessage, body: Buffer): { type: string; message: string } | undefined {
    const authorization = header(req, 'authorization');
    const amzDate = header(req, 'x-amz-date');
    if (!authorization || !amzDate) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!m) return { type: 'IncompleteSignatureException', message: 'Authorization header requires a SigV4 Credential, SignedHeaders and Signature.' };
    const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
    if (keyId !== this.credentials.accessKeyId) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    if (region !== this.region || service !== 'secretsmanager' || !amzDate.startsWith(day!)) {
      return { type: 'InvalidSignatureException', message: `Credential should be scoped to ${this.region}/secretsmanager.` };
    }
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return { type: 'InvalidSignatureException', message: 'host and x-amz-date must be signed.' };
    const canonical = [
      req.method,
      '/',
      '',
      ...names.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}`),
      '',
      signedHeaders,
      createHash('sha256').update(body).digest('hex'),
    ].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let key: Buffer = Buffer.from(`AWS4${this.credentials.secretAccessKey}`);
    for (const part of [day!, region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    if (expected !== signature) return { type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
    return undefined;
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    this.send(res, status, { __type: type, Message: message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.secretsmanager/` });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...headers,
    });
    res.end(text);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
