import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { S3RVER_CREDENTIALS } from './s3rverServer';

/**
 * AWS IAM Identity Center as the real SDK clients see it, on ONE loopback HTTP server: point
 * AWS_ENDPOINT_URL_SSO_OIDC, AWS_ENDPOINT_URL_SSO and AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL)
 * at `endpoint`. In AWS these are three hosts (oidc.<region>.amazonaws.com,
 * portal.sso.<region>.amazonaws.com, sts.<region>.amazonaws.com); their paths do not collide.
 *
 * - SSO OIDC, restJson1 (camelCase JSON, noAuth): POST /client/register, POST /device_authorization,
 *   POST /token. Errors are HTTP 400 (401 for InvalidClientException) with the body
 *   `{"error":"authorization_pending","error_description":…}` AND the header
 *   `x-amzn-ErrorType: AuthorizationPendingException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/`,
 *   as captured from AWS (aws/aws-cli#5955). The SDK picks the exception class from that header
 *   (then body `code`, then `__type`), never from `error` (@smithy/core protocols loadRestJsonErrorCode).
 * - SSO portal, restJson1 with `x-amz-sso_bearer_token` (noAuth): GET /federation/credentials,
 *   GET /assignment/accounts, GET /assignment/roles, POST /logout. `expiration` is epoch ms.
 * - STS, awsQuery: POST / `Action=GetCallerIdentity&Version=2011-06-15`, SigV4-signed with the
 *   role credentials this fake handed out (verified, session token included), XML answer.
 *
 * Each device code is scriptable (pending×N, slow_down×N, then approve as a user, deny or expire),
 * and polling faster than the current interval is answered slow_down and raises the interval by
 * 5 s, as RFC 8628 §3.5 lets a server do. Every poll is recorded with its time on `now`.
 *
 * The role credentials default to s3rver's fixed key pair (S3RVER/S3RVER) plus a session token
 * unique to each issue, so the same credentials sign STS (which tells users apart by session
 * token) and are accepted by s3rver.
 */

export type DeviceStep = 'pending' | 'slow_down';
/** How a device code ends, once its scripted steps are used up. Without one it stays pending. */
export type DeviceDecision = { approve: string } | 'deny' | 'expire';

export interface DeviceScript {
  /** Answers to the first polls, in order. */
  steps?: DeviceStep[];
  /** What follows the steps; leave out to decide later with approve()/deny()/expire(). */
  then?: DeviceDecision;
  /** `interval` sent for this code (seconds). */
  interval?: number;
  /** `expiresIn` sent for this code (seconds). */
  expiresIn?: number;
  /** How long the role credentials handed out for this sign-in live (ms). */
  credentialLifetimeMs?: number;
}

export interface FakeAccount {
  accountId: string;
  accountName: string;
  emailAddress: string;
  roles: string[];
}

export interface FakeAwsSsoOptions {
  /** The region STS signatures must be scoped to. Default us-east-1. */
  region?: string;
  /** The start URL StartDeviceAuthorization must name. Default https://d-fake000001.awsapps.com/start. */
  startUrl?: string;
  /** Default `interval` (s). Default 5, as AWS. */
  interval?: number;
  /** Default `expiresIn` (s). Default 600, as AWS. */
  expiresIn?: number;
  /** Lifetime of a client registration's secret (s). Default 90 days. */
  clientSecretLifetimeSeconds?: number;
  /** Default lifetime of role credentials (ms). Default 1 h. */
  credentialLifetimeMs?: number;
  /** The key pair in every set of role credentials. Default s3rver's (S3RVER/S3RVER). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Prefixes of the access tokens and session tokens it mints (canary tests). */
  accessTokenPrefix?: string;
  sessionTokenPrefix?: string;
  /** What every user is assigned. Default: one account with one role. */
  accounts?: FakeAccount[];
  /** Page size of ListAccounts / ListAccountRoles (when the request asks for more). Default 100. */
  pageSize?: number;
  /** The clock polls are judged and recorded on (ms since epoch). Default Date.now. */
  now?: () => number;
  /** Send `x-amzn-ErrorType` on OIDC errors. Default true; false shows the SDK does not read `error`. */
  errorTypeHeader?: boolean;
}

export type Operation =
  | 'RegisterClient'
  | 'StartDeviceAuthorization'
  | 'CreateToken'
  | 'GetRoleCredentials'
  | 'ListAccounts'
  | 'ListAccountRoles'
  | 'Logout'
  | 'GetCallerIdentity';

/** One request the fake served, in order of arrival. */
export interface SeenCall {
  op: Operation | 'other';
  at: number;
  status: number;
  /** The SSO user the token or credentials belong to, when known. */
  userName?: string;
  /** The error type answered, if any. */
  error?: string;
}

export interface PollRecord {
  at: number;
  answer: 'authorization_pending' | 'slow_down' | 'too_fast' | 'access_denied' | 'expired_token' | 'granted' | 'invalid_grant';
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
  userName: string;
  accountId: string;
  roleName: string;
}

/** A fault to answer the next call of an operation with: an error, or a dropped connection. */
export type Fault = { status: number; type: string; message?: string } | 'drop';

interface Device {
  deviceCode: string;
  userCode: string;
  clientId: string;
  issuedAt: number;
  expiresAt: number;
  intervalMs: number;
  steps: DeviceStep[];
  decision?: DeviceDecision;
  consumed: boolean;
  credentialLifetimeMs?: number;
  polls: PollRecord[];
}

interface Registration {
  clientId: string;
  clientSecret: string;
  expiresAt: number;
}

interface Token {
  userName: string;
  active: boolean;
  credentialLifetimeMs?: number;
}

const OIDC_NS = 'http://internal.amazon.com/coral/com.amazonaws.sso.oidc/';
const OIDC_ERRORS: Record<string, { status: number; error: string }> = {
  AuthorizationPendingException: { status: 400, error: 'authorization_pending' },
  SlowDownException: { status: 400, error: 'slow_down' },
  ExpiredTokenException: { status: 400, error: 'expired_token' },
  AccessDeniedException: { status: 400, error: 'access_denied' },
  InvalidGrantException: { status: 400, error: 'invalid_grant' },
  InvalidRequestException: { status: 400, error: 'invalid_request' },
  UnsupportedGrantTypeException: { status: 400, error: 'unsupported_grant_type' },
  InvalidClientException: { status: 401, error: 'invalid_client' },
  InternalServerException: { status: 500, error: 'server_error' },
};

export class FakeAwsSso {
  readonly calls: SeenCall[] = [];
  readonly registrations: Array<{ clientName: string; clientType: string; scopes?: string[]; at: number }> = [];
  readonly issued: IssuedCredentials[] = [];
  private readonly devices = new Map<string, Device>();
  private readonly clients = new Map<string, Registration>();
  private readonly tokens = new Map<string, Token>();
  private readonly scripts: DeviceScript[] = [];
  private readonly faults = new Map<Operation, Fault[]>();
  private readonly now: () => number;
  private accounts: FakeAccount[];
  readonly region: string;
  readonly startUrl: string;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: FakeAwsSsoOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.region = options.region ?? 'us-east-1';
    this.startUrl = options.startUrl ?? 'https://d-fake000001.awsapps.com/start';
    this.accounts = options.accounts ?? [{ accountId: '111122223333', accountName: 'Data', emailAddress: 'aws-data@example.com', roles: ['FileFerryReadOnly'] }];
  }

  /** Replaces the accounts (and their roles) assigned to every user, for ListAccounts / ListAccountRoles / GetRoleCredentials. */
  setAccounts(accounts: FakeAccount[]): void {
    this.accounts = accounts;
  }

  static async start(options: FakeAwsSsoOptions = {}): Promise<FakeAwsSso> {
    let fake!: FakeAwsSso;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          fake.handle(req, Buffer.concat(chunks), res);
        } catch (e) {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeAwsSso(server, (server.address() as { port: number }).port, options);
    return fake;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The endpoint variables that send the SDK's SSO OIDC, SSO portal and STS clients here. */
  get env(): Record<string, string> {
    return { AWS_ENDPOINT_URL_SSO_OIDC: this.endpoint, AWS_ENDPOINT_URL_SSO: this.endpoint, AWS_ENDPOINT_URL_STS: this.endpoint };
  }

  /** The script for the next StartDeviceAuthorization (queued; one per authorization). */
  scriptNext(script: DeviceScript): void {
    this.scripts.push(script);
  }

  /** The person approves the code as `userName` (what opening the link and pressing Allow does). */
  approve(userCode: string, userName: string): void {
    this.device(userCode).decision = { approve: userName };
  }

  deny(userCode: string): void {
    this.device(userCode).decision = 'deny';
  }

  expire(userCode: string): void {
    this.device(userCode).decision = 'expire';
  }

  /** The next call of `op` fails this way instead of being served. */
  failNext(op: Operation, fault: Fault): void {
    this.faults.set(op, [...(this.faults.get(op) ?? []), fault]);
  }

  /** The polls of the code shown as `userCode`, in order. */
  polls(userCode: string): PollRecord[] {
    return this.device(userCode).polls;
  }

  /** How many calls of `op` were served. */
  count(op: Operation): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** Whether an access token is still active (not logged out). */
  activeTokens(): number {
    return [...this.tokens.values()].filter((t) => t.active).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private device(userCode: string): Device {
    const d = [...this.devices.values()].find((x) => x.userCode === userCode);
    if (!d) throw new Error(`The fake issued no user code ${userCode}.`);
    return d;
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    const route = `${req.method} ${url.pathname}`;
    const op = OPS[route];
    const call: SeenCall = { op: op ?? 'other', at: this.now(), status: 0 };
    this.calls.push(call);
    const reply = (status: number, headers: Record<string, string>, text: string): void => {
      call.status = status;
      res.writeHead(status, { 'content-length': String(Buffer.byteLength(text)), 'x-amzn-requestid': randomUUID(), ...headers });
      res.end(text);
    };
    const fault = op ? this.faults.get(op)?.shift() : undefined;
    if (fault === 'drop') {
      call.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault) {
      call.error = fault.type;
      if (op === 'GetCallerIdentity') return this.queryError(reply, fault.status, fault.type, fault.message ?? fault.type);
      return this.jsonError(reply, fault.status, fault.type, fault.message ?? fault.type, op !== undefined && OIDC_OPS.has(op));
    }
    switch (route) {
      case 'POST /client/register':
        return this.register(json(body), reply);
      case 'POST /device_authorization':
        return this.startDevice(json(body), reply, call);
      case 'POST /token':
        return this.createToken(json(body), reply, call);
      case 'GET /federation/credentials':
        return this.portal(req, reply, call, (token) => this.roleCredentials(url, token, reply, call));
      case 'GET /assignment/accounts':
        return this.portal(req, reply, call, () => this.page(url, 'accountList', this.accounts.map(({ roles: _r, ...a }) => a), reply));
      case 'GET /assignment/roles':
        return this.portal(req, reply, call, () => {
          const accountId = url.searchParams.get('account_id') ?? '';
          const account = this.accounts.find((a) => a.accountId === accountId);
          this.page(url, 'roleList', (account?.roles ?? []).map((roleName) => ({ roleName, accountId })), reply);
        });
      case 'POST /logout':
        return this.portal(req, reply, call, (token) => {
          token.active = false;
          reply(200, {}, '');
        });
      case 'POST /':
        return this.sts(req, body, reply, call);
      case 'GET /device':
        return reply(200, { 'content-type': 'text/html' }, `<form method="post"><input name="user_code" value="${escapeHtml(url.searchParams.get('user_code') ?? '')}"><input name="user_name"><button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></form>`);
      case 'POST /device':
        return this.decideByForm(new URLSearchParams(body.toString('utf8')), reply);
      default:
        return reply(404, { 'content-type': 'text/plain' }, `The fake serves no ${route}.`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // SSO OIDC

  private register(input: Record<string, unknown>, reply: Reply): void {
    if (typeof input.clientName !== 'string' || input.clientType !== 'public') {
      return this.jsonError(reply, 400, 'InvalidClientMetadataException', 'clientName and clientType "public" are required.', true);
    }
    const now = this.now();
    const clientId = `fake-client-${randomBytes(8).toString('hex')}`;
    const clientSecret = `fake-client-secret-${randomBytes(24).toString('hex')}`;
    const lifetime = this.options.clientSecretLifetimeSeconds ?? 90 * 86_400;
    const issuedAt = Math.floor(now / 1000);
    this.clients.set(clientId, { clientId, clientSecret, expiresAt: (issuedAt + lifetime) * 1000 });
    this.registrations.push({ clientName: input.clientName, clientType: input.clientType, ...(Array.isArray(input.scopes) ? { scopes: input.scopes as string[] } : {}), at: now });
    this.sendJson(reply, 200, { clientId, clientSecret, clientIdIssuedAt: issuedAt, clientSecretExpiresAt: issuedAt + lifetime });
  }

  /** The client's registration, or why not as the exception AWS answers with. */
  private client(input: Record<string, unknown>): Registration | string {
    const c = typeof input.clientId === 'string' ? this.clients.get(input.clientId) : undefined;
    if (!c || c.clientSecret !== input.clientSecret) return 'InvalidClientException';
    if (this.now() >= c.expiresAt) return 'InvalidClientException';
    return c;
  }

  private startDevice(input: Record<string, unknown>, reply: Reply, call: SeenCall): void {
    const client = this.client(input);
    if (typeof client === 'string') return this.oidcError(reply, call, client, 'Invalid client credentials.');
    if (input.startUrl !== this.startUrl) return this.oidcError(reply, call, 'InvalidRequestException', 'Unknown start URL.');
    const script = this.scripts.shift() ?? {};
    const now = this.now();
    const interval = script.interval ?? this.options.interval ?? 5;
    const expiresIn = script.expiresIn ?? this.options.expiresIn ?? 600;
    const deviceCode = `fake-device-code-${randomBytes(16).toString('hex')}`;
    const letters = 'BCDFGHJKLMNPQRSTVWXZ';
    const userCode = [0, 1].map(() => Array.from(randomBytes(4), (b) => letters[b % letters.length]).join('')).join('-');
    this.devices.set(deviceCode, {
      deviceCode,
      userCode,
      clientId: client.clientId,
      issuedAt: now,
      expiresAt: now + expiresIn * 1000,
      intervalMs: interval * 1000,
      steps: [...(script.steps ?? [])],
      ...(script.then ? { decision: script.then } : {}),
      consumed: false,
      ...(script.credentialLifetimeMs !== undefined ? { credentialLifetimeMs: script.credentialLifetimeMs } : {}),
      polls: [],
    });
    this.sendJson(reply, 200, {
      deviceCode,
      userCode,
      verificationUri: `${this.endpoint}/device`,
      verificationUriComplete: `${this.endpoint}/device?user_code=${userCode}`,
      expiresIn,
      interval,
    });
  }

  private createToken(input: Record<string, unknown>, reply: Reply, call: SeenCall): void {
    const client = this.client(input);
    if (typeof client === 'string') return this.oidcError(reply, call, client, 'Invalid client credentials.');
    if (input.grantType !== 'urn:ietf:params:oauth:grant-type:device_code') {
      return this.oidcError(reply, call, 'UnsupportedGrantTypeException', 'Only the device code grant is served.');
    }
    const device = typeof input.deviceCode === 'string' ? this.devices.get(input.deviceCode) : undefined;
    if (!device || device.clientId !== client.clientId) return this.oidcError(reply, call, 'InvalidGrantException', 'Invalid device code.');
    const now = this.now();
    const answer = (a: PollRecord['answer'], type: string | undefined, description: string): void => {
      device.polls.push({ at: now, answer: a });
      if (type) this.oidcError(reply, call, type, description);
    };
    if (device.consumed) return answer('invalid_grant', 'InvalidGrantException', 'The device code was already used.');
    if (now >= device.expiresAt || device.decision === 'expire') return answer('expired_token', 'ExpiredTokenException', 'Device code has expired.');
    const last = device.polls.at(-1)?.at ?? device.issuedAt;
    if (now - last < device.intervalMs) {
      device.intervalMs += 5_000;
      return answer('too_fast', 'SlowDownException', 'Client is polling too fast.');
    }
    const step = device.steps.shift();
    if (step === 'slow_down') {
      device.intervalMs += 5_000;
      return answer('slow_down', 'SlowDownException', 'Client is polling too fast.');
    }
    if (step === 'pending' || device.decision === undefined) return answer('authorization_pending', 'AuthorizationPendingException', 'Authorization is still pending');
    if (device.decision === 'deny') return answer('access_denied', 'AccessDeniedException', 'Access denied by the user.');
    device.consumed = true;
    answer('granted', undefined, '');
    const accessToken = `${this.options.accessTokenPrefix ?? 'fake-access-token-'}${randomBytes(24).toString('hex')}`;
    this.tokens.set(accessToken, {
      userName: device.decision.approve,
      active: true,
      ...(device.credentialLifetimeMs !== undefined ? { credentialLifetimeMs: device.credentialLifetimeMs } : {}),
    });
    call.userName = device.decision.approve;
    this.sendJson(reply, 200, { accessToken, tokenType: 'Bearer', expiresIn: 28_800 });
  }

  private decideByForm(form: URLSearchParams, reply: Reply): void {
    const userCode = form.get('user_code') ?? '';
    const device = [...this.devices.values()].find((d) => d.userCode === userCode);
    if (!device) return reply(404, { 'content-type': 'text/plain' }, 'Unknown code.');
    if (form.get('decision') === 'deny') device.decision = 'deny';
    else device.decision = { approve: form.get('user_name') ?? '' };
    reply(200, { 'content-type': 'text/plain' }, 'Done. You can close this window.');
  }

  // -------------------------------------------------------------------------------------------
  // SSO portal

  private portal(req: IncomingMessage, reply: Reply, call: SeenCall, serve: (token: Token) => void): void {
    const bearer = header(req, 'x-amz-sso_bearer_token');
    const token = bearer ? this.tokens.get(bearer) : undefined;
    if (!token || !token.active) {
      call.error = 'UnauthorizedException';
      return this.jsonError(reply, 401, 'UnauthorizedException', 'Session token not found or invalid', false);
    }
    call.userName = token.userName;
    serve(token);
  }

  private roleCredentials(url: URL, token: Token, reply: Reply, call: SeenCall): void {
    const accountId = url.searchParams.get('account_id') ?? '';
    const roleName = url.searchParams.get('role_name') ?? '';
    if (!this.accounts.some((a) => a.accountId === accountId && a.roles.includes(roleName))) {
      call.error = 'ResourceNotFoundException';
      return this.jsonError(reply, 404, 'ResourceNotFoundException', 'No access', false);
    }
    const pair = this.options.credentials ?? S3RVER_CREDENTIALS;
    const issued: IssuedCredentials = {
      ...pair,
      sessionToken: `${this.options.sessionTokenPrefix ?? 'fake-session-token-'}${randomBytes(32).toString('base64url')}`,
      expiration: this.now() + (token.credentialLifetimeMs ?? this.options.credentialLifetimeMs ?? 3_600_000),
      userName: token.userName,
      accountId,
      roleName,
    };
    this.issued.push(issued);
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = issued;
    this.sendJson(reply, 200, { roleCredentials: { accessKeyId, secretAccessKey, sessionToken, expiration } });
  }

  private page(url: URL, member: string, items: unknown[], reply: Reply): void {
    const asked = Number(url.searchParams.get('max_result') ?? '0') || Infinity;
    const size = Math.min(asked, this.options.pageSize ?? 100);
    const start = Number(url.searchParams.get('next_token') ?? '0') || 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    this.sendJson(reply, 200, { [member]: items.slice(start, start + size), ...(next ? { nextToken: next } : {}) });
  }

  // -------------------------------------------------------------------------------------------
  // STS (awsQuery)

  private sts(req: IncomingMessage, body: Buffer, reply: Reply, call: SeenCall): void {
    const form = new URLSearchParams(body.toString('utf8'));
    if (form.get('Action') !== 'GetCallerIdentity') {
      return this.queryError(reply, 400, 'InvalidAction', `The fake STS serves only GetCallerIdentity, not ${form.get('Action')}.`);
    }
    call.op = 'GetCallerIdentity';
    const token = header(req, 'x-amz-security-token');
    const issued = this.issued.find((c) => c.sessionToken === token);
    if (!issued) return this.queryError(reply, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.', call);
    const problem = this.signatureProblem(req, body, issued);
    if (problem) return this.queryError(reply, 403, 'SignatureDoesNotMatch', problem, call);
    if (this.now() >= issued.expiration) return this.queryError(reply, 403, 'ExpiredToken', 'The security token included in the request is expired', call);
    call.userName = issued.userName;
    const suffix = createHash('sha256').update(issued.roleName).digest('hex').slice(0, 16);
    const arn = `arn:aws:sts::${issued.accountId}:assumed-role/AWSReservedSSO_${issued.roleName}_${suffix}/${issued.userName}`;
    const xml = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>${escapeHtml(arn)}</Arn>
    <UserId>AROAFAKE${suffix.toUpperCase()}:${escapeHtml(issued.userName)}</UserId>
    <Account>${issued.accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
    reply(200, { 'content-type': 'text/xml' }, xml);
  }

  /** Why the SigV4 signature does not verify with these credentials, or undefined. */
  private signatureProblem(req: IncomingMessage, body: Buffer, creds: IssuedCredentials): string | undefined {
    const authorization = header(req, 'authorization') ?? '';
    const amzDate = header(req, 'x-amz-date') ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!m) return 'The request is not SigV4-signed.';
    const [, keyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
    if (keyId !== creds.accessKeyId) return 'The access key is not the one issued with this session token.';
    if (region !== this.region || service !== 'sts' || !amzDate.startsWith(day!)) return `Credential should be scoped to ${this.region}/sts.`;
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-security-token')) return 'host and x-amz-security-token must be signed.';
    const url = new URL(req.url ?? '/', this.endpoint);
    const canonical = [
      req.method,
      url.pathname,
      '',
      ...names.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}`),
      '',
      signedHeaders,
      header(req, 'x-amz-content-sha256') ?? createHash('sha256').update(body).digest('hex'),
    ].join('\n');
    const scope = `${day}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    let key: Buffer = Buffer.from(`AWS4${creds.secretAccessKey}`);
    for (const part of [day!, region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    return expected === signature ? undefined : 'The request signature we calculated does not match the signature you provided.';
  }

  // -------------------------------------------------------------------------------------------
  // Answers

  private oidcError(reply: Reply, call: SeenCall, type: string, description: string): void {
    call.error = type;
    this.jsonError(reply, OIDC_ERRORS[type]?.status ?? 400, type, description, true);
  }

  /** restJson1 error: the type in `x-amzn-ErrorType`; OIDC bodies are RFC 6749 shaped, portal ones `{message}`. */
  private jsonError(reply: Reply, status: number, type: string, message: string, oidc: boolean): void {
    const body = oidc ? { error: OIDC_ERRORS[type]?.error ?? 'invalid_request', error_description: message } : { message };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!oidc) headers['x-amzn-ErrorType'] = type;
    else if (this.options.errorTypeHeader !== false) headers['x-amzn-ErrorType'] = `${type}:${OIDC_NS}`;
    const text = JSON.stringify(body);
    reply(status, headers, text);
  }

  private queryError(reply: Reply, status: number, code: string, message: string, call?: SeenCall): void {
    if (call) call.error = code;
    const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeHtml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    reply(status, { 'content-type': 'text/xml' }, xml);
  }

  private sendJson(reply: Reply, status: number, body: unknown): void {
    reply(status, { 'content-type': 'application/json' }, JSON.stringify(body));
  }
}

type Reply = (status: number, headers: Record<string, string>, text: string) => void;

const OPS: Record<string, Operation> = {
  'POST /client/register': 'RegisterClient',
  'POST /device_authorization': 'StartDeviceAuthorization',
  'POST /token': 'CreateToken',
  'GET /federation/credentials': 'GetRoleCredentials',
  'GET /assignment/accounts': 'ListAccounts',
  'GET /assignment/roles': 'ListAccountRoles',
  'POST /logout': 'Logout',
  'POST /': 'GetCallerIdentity',
};
const OIDC_OPS = new Set<Operation>(['RegisterClient', 'StartDeviceAuthorization', 'CreateToken']);

function json(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8') || '{}') as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------
// Clocks shared by the provider under test and the fake, so poll gaps are judged on one time line

export interface TestClock {
  /** For the provider's `now`. */
  now: () => Date;
  /** For the fake's `now`. */
  nowMs: () => number;
  /** For the provider's `sleep`. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Time that moves only when someone sleeps: `sleep(ms)` adds ms and yields. Poll gaps come out
 * exact, and a 10-minute device code runs out in milliseconds of real time. Meant for one
 * sign-in at a time (concurrent sleepers each push the clock).
 */
export function virtualClock(start = Date.UTC(2026, 0, 15, 9, 0, 0)): TestClock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => new Date(t),
    nowMs: () => t,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms, signal) => {
      if (signal.aborted) throw abortError();
      t += ms;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal.aborted) throw abortError();
    },
  };
}

/**
 * Real time running `factor` times faster: `sleep(ms)` waits ms/factor real milliseconds (plus
 * 2 ms, since a timer may fire a fraction of a millisecond early), and `now` counts scaled time.
 */
export function scaledClock(factor: number): TestClock {
  const origin = Date.now();
  const startedAt = performance.now();
  const nowMs = (): number => origin + Math.floor((performance.now() - startedAt) * factor);
  return { now: () => new Date(nowMs()), nowMs, sleep: (ms, signal) => delay(ms / factor + 2, undefined, { signal }) };
}

function abortError(): Error {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  return e;
}
