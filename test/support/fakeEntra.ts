import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { generateTestCertificates } from './testCertificates';

/** Who approves a device code at the fake. `claim` picks which ID token claim names them. */
export interface EntraTestUser {
  upn: string;
  oid?: string;
  name?: string;
  /** Default 'preferred_username' (v2.0 ID tokens); 'upn' leaves preferred_username out. */
  claim?: 'preferred_username' | 'upn';
}

/** How a device code ends once its scripted pending answers are used up. */
export type SignInEnd = { approve: EntraTestUser } | 'deny' | 'expire';

/** The script of the next device code the fake issues. */
export interface DeviceCodeScript {
  /** Answer authorization_pending this many times before `then` applies. Default 0. */
  pending?: number;
  /** What comes after the pending answers; without it, pending until approve/deny/expire is called. */
  then?: SignInEnd;
  /** Default 900 (Entra ID's 15 minutes). */
  expiresIn?: number;
  /** Default 1: tests should not wait Entra ID's 5 s per poll. */
  interval?: number;
}

/** What the token endpoint answered one device-code poll. */
export type PollAnswer = 'authorization_pending' | 'granted' | 'authorization_declined' | 'expired_token' | 'bad_verification_code' | 'invalid_grant' | 'invalid_client';

export interface SeenPoll {
  userCode?: string;
  answer: PollAnswer;
}

/** What the device code endpoint saw (scopes and client, never a code). */
export interface SeenDeviceCodeRequest {
  clientId: string;
  scopes: string[];
}

interface DeviceCodeState {
  deviceCode: string;
  userCode: string;
  expiresAtMs: number;
  interval: number;
  pendingLeft: number;
  end?: SignInEnd;
  redeemed: boolean;
  waiters: Array<{ count: number; wake: () => void }>;
  polls: number;
}

// Entra ID's error answers: HTTP 400 {error, error_description, error_codes, timestamp, trace_id,
// correlation_id}. The AADSTS numbers are the ones Entra ID is known to send for these errors
// (70016 pending, 70020 expired, 70000 declined/invalid grant); MSAL only reads `error`.
const ERRORS: Record<Exclude<PollAnswer, 'granted'>, { code: number; description: string }> = {
  authorization_pending: { code: 70016, description: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.' },
  authorization_declined: { code: 70000, description: 'The user declined the sign-in request.' },
  expired_token: { code: 70020, description: 'The provided value for the input parameter device_code is not valid. This device code has expired.' },
  bad_verification_code: { code: 70019, description: 'The device code is not recognised.' },
  invalid_grant: { code: 70000, description: 'The provided value for the input parameter device_code is not valid (already redeemed).' },
  invalid_client: { code: 700016, description: 'Application was not found in the directory.' },
};

const b64url = (value: object | string): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * Microsoft Entra ID's v2.0 endpoints as MSAL's device code flow uses them, over HTTPS with a
 * test CA (MSAL refuses non-https authorities):
 * - `GET /<tenant>/v2.0/.well-known/openid-configuration` (issuer on this host, which MSAL's
 *   issuer validation accepts as the authority's own origin);
 * - `POST /<tenant>/oauth2/v2.0/devicecode` (form client_id, scope) →
 *   `{device_code, user_code, verification_uri, expires_in, interval, message}`;
 * - `POST /<tenant>/oauth2/v2.0/token` with `grant_type=device_code` → HTTP 400
 *   `{"error":"authorization_pending",…}` until the code is approved, then the tokens.
 *
 * The access token is a JWT Azurite's `--oauth basic` accepts (iss https://sts.windows.net/<tid>/,
 * aud https://storage.azure.com, iat/nbf/exp; Azurite checks no signature); its signature part
 * is `accessTokenSignature`, a canary tests look for in logs and errors. The ID token carries
 * `preferred_username` (or `upn`), `oid`, `tid`; `client_info` gives MSAL the home account.
 * Instance discovery is never served: the adapter lists this host as a known authority.
 */
export class FakeEntra {
  readonly polls: SeenPoll[] = [];
  readonly deviceCodeRequests: SeenDeviceCodeRequest[] = [];
  readonly issuedAccessTokens: string[] = [];
  private readonly codes = new Map<string, DeviceCodeState>();
  private readonly byUserCode = new Map<string, DeviceCodeState>();
  private readonly scripts: DeviceCodeScript[] = [];
  private refusals: Array<{ status: number; error: string }> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly caPem: string,
    readonly tenantId: string,
    readonly clientId: string,
    /** The signature segment of every access token: a canary string. */
    readonly accessTokenSignature: string,
    /** The refresh token every grant carries: another canary. */
    readonly refreshToken: string,
    private readonly tokenLifetimeSeconds: number,
  ) {}

  static async start(options: { certDir: string; tenantId?: string; clientId?: string; tokenLifetimeSeconds?: number }): Promise<FakeEntra> {
    const certs = generateTestCertificates(options.certDir);
    let fake!: FakeEntra;
    const server = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake.handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    fake = new FakeEntra(
      server,
      port,
      certs.caPem,
      options.tenantId ?? randomUUID(),
      options.clientId ?? randomUUID(),
      `CANARYsig${randomBytes(12).toString('hex')}`,
      `CANARYrefresh${randomBytes(12).toString('hex')}`,
      options.tokenLifetimeSeconds ?? 3600,
    );
    return fake;
  }

  /** https://127.0.0.1:<port>/<tenant>: what FILEFERRY_ENTRA_AUTHORITY would be. */
  get authority(): string {
    return `${this.origin}/${this.tenantId}`;
  }

  private get origin(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The next device code issued follows `script` (queued: one script per device code). */
  scriptNext(script: DeviceCodeScript): void {
    this.scripts.push(script);
  }

  /** The next device code request is refused with this OAuth error (e.g. unauthorized_client). */
  refuseNextDeviceCode(error: string, status = 400): void {
    this.refusals.push({ status, error });
  }

  /** The person signs in as `user` and approves: the next poll for the code gets the tokens. */
  approve(userCode: string, user: EntraTestUser): void {
    this.state(userCode).end = { approve: user };
    this.state(userCode).pendingLeft = 0;
  }

  /** The person declines: the next poll gets authorization_declined. */
  deny(userCode: string): void {
    this.state(userCode).end = 'deny';
    this.state(userCode).pendingLeft = 0;
  }

  /** The code expires now: the next poll gets expired_token. */
  expire(userCode: string): void {
    this.state(userCode).expiresAtMs = Date.now();
  }

  /** Every device code issued so far (for tests that check none leaks). */
  issuedDeviceCodes(): string[] {
    return [...this.codes.keys()];
  }

  /** The polls answered for `userCode`. */
  pollsFor(userCode: string): SeenPoll[] {
    return this.polls.filter((p) => p.userCode === userCode);
  }

  /** Resolves once `count` polls for `userCode` have been answered. */
  waitForPolls(userCode: string, count: number): Promise<void> {
    const state = this.state(userCode);
    if (state.polls >= count) return Promise.resolve();
    return new Promise((resolve) => state.waiters.push({ count, wake: resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private state(userCode: string): DeviceCodeState {
    const state = this.byUserCode.get(userCode);
    if (!state) throw new Error(`The fake Entra ID issued no user code ${userCode}.`);
    return state;
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    const tenant = `/${this.tenantId}`;
    if (req.method === 'GET' && url.pathname === `${tenant}/v2.0/.well-known/openid-configuration`) return this.json(res, 200, this.openIdConfiguration());
    if (req.method === 'POST' && url.pathname === `${tenant}/oauth2/v2.0/devicecode`) return this.deviceCode(new URLSearchParams(body), res);
    if (req.method === 'POST' && url.pathname === `${tenant}/oauth2/v2.0/token`) return this.token(new URLSearchParams(body), res);
    if (req.method === 'GET' && url.pathname === '/devicelogin') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p>Enter the code shown on the card.</p>');
      return;
    }
    this.json(res, 404, { error: 'not_found', error_description: `The fake Entra ID serves no ${req.method} ${url.pathname}.` });
  }

  private openIdConfiguration(): object {
    const base = `${this.origin}/${this.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.origin}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'oid'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  private deviceCode(form: URLSearchParams, res: ServerResponse): void {
    const clientId = form.get('client_id') ?? '';
    this.deviceCodeRequests.push({ clientId, scopes: (form.get('scope') ?? '').split(' ').filter(Boolean) });
    const refusal = this.refusals.shift();
    if (refusal) return this.oauthError(res, refusal.error as Exclude<PollAnswer, 'granted'>, refusal.status);
    if (clientId !== this.clientId) return this.oauthError(res, 'invalid_client');
    const script = this.scripts.shift() ?? {};
    const userCode = randomBytes(5).toString('hex').toUpperCase().slice(0, 9);
    const state: DeviceCodeState = {
      deviceCode: `DAQABAAEAAA${randomBytes(24).toString('base64url')}`,
      userCode,
      expiresAtMs: Date.now() + (script.expiresIn ?? 900) * 1000,
      interval: script.interval ?? 1,
      pendingLeft: script.pending ?? 0,
      end: script.then,
      redeemed: false,
      waiters: [],
      polls: 0,
    };
    this.codes.set(state.deviceCode, state);
    this.byUserCode.set(userCode, state);
    const verificationUri = `${this.origin}/devicelogin`;
    this.json(res, 200, {
      user_code: userCode,
      device_code: state.deviceCode,
      verification_uri: verificationUri,
      expires_in: script.expiresIn ?? 900,
      interval: state.interval,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  private token(form: URLSearchParams, res: ServerResponse): void {
    if (form.get('grant_type') !== 'device_code') return this.oauthError(res, 'invalid_grant');
    const state = this.codes.get(form.get('device_code') ?? '');
    const answer = <A extends PollAnswer>(a: A): A => {
      this.polls.push({ userCode: state?.userCode, answer: a });
      if (state) {
        state.polls++;
        const ready = state.waiters.filter((w) => state.polls >= w.count);
        state.waiters = state.waiters.filter((w) => state.polls < w.count);
        // Woken after the answer is on its way, so a test acting on it races nothing still in flight here.
        setImmediate(() => ready.forEach((w) => w.wake()));
      }
      return a;
    };
    if (!state) return this.oauthError(res, answer('bad_verification_code'));
    if (form.get('client_id') !== this.clientId) return this.oauthError(res, answer('invalid_client'));
    if (state.redeemed) return this.oauthError(res, answer('invalid_grant'));
    if (Date.now() >= state.expiresAtMs) return this.oauthError(res, answer('expired_token'));
    if (state.pendingLeft > 0) {
      state.pendingLeft--;
      return this.oauthError(res, answer('authorization_pending'));
    }
    const end = state.end;
    if (end === undefined) return this.oauthError(res, answer('authorization_pending'));
    if (end === 'deny') return this.oauthError(res, answer('authorization_declined'));
    if (end === 'expire') return this.oauthError(res, answer('expired_token'));
    state.redeemed = true;
    answer('granted');
    this.json(res, 200, this.tokens(end.approve, form.get('scope') ?? ''));
  }

  private tokens(user: EntraTestUser, scope: string): object {
    const now = Math.floor(Date.now() / 1000);
    const oid = user.oid ?? randomUUID();
    const tid = this.tenantId;
    const accessToken = [
      b64url({ typ: 'JWT', alg: 'RS256', kid: 'fake-entra-key' }),
      b64url({
        aud: 'https://storage.azure.com',
        iss: `https://sts.windows.net/${tid}/`,
        iat: now - 5,
        nbf: now - 5,
        exp: now + this.tokenLifetimeSeconds,
        appid: this.clientId,
        oid,
        tid,
        upn: user.upn,
        unique_name: user.upn,
        scp: 'user_impersonation',
        ver: '1.0',
      }),
      this.accessTokenSignature,
    ].join('.');
    this.issuedAccessTokens.push(accessToken);
    const idToken = [
      b64url({ typ: 'JWT', alg: 'RS256', kid: 'fake-entra-key' }),
      b64url({
        aud: this.clientId,
        iss: `${this.origin}/${tid}/v2.0`,
        iat: now - 5,
        nbf: now - 5,
        exp: now + 3600,
        sub: randomBytes(16).toString('base64url'),
        oid,
        tid,
        name: user.name ?? user.upn,
        ver: '2.0',
        ...((user.claim ?? 'preferred_username') === 'preferred_username' ? { preferred_username: user.upn } : { upn: user.upn }),
      }),
      'fake-id-token-signature',
    ].join('.');
    return {
      token_type: 'Bearer',
      scope: scope.split(' ').includes('https://storage.azure.com/.default') ? 'https://storage.azure.com/user_impersonation' : scope,
      expires_in: this.tokenLifetimeSeconds,
      ext_expires_in: this.tokenLifetimeSeconds,
      access_token: accessToken,
      refresh_token: this.refreshToken,
      id_token: idToken,
      client_info: b64url({ uid: oid, utid: tid }),
    };
  }

  private oauthError(res: ServerResponse, error: Exclude<PollAnswer, 'granted'>, status = 400): void {
    const known = ERRORS[error] ?? { code: 90000, description: error };
    const traceId = randomUUID();
    const correlationId = randomUUID();
    this.json(res, status, {
      error,
      error_description: `AADSTS${known.code}: ${known.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${new Date().toISOString()}`,
      error_codes: [known.code],
      timestamp: new Date().toISOString(),
      trace_id: traceId,
      correlation_id: correlationId,
    });
  }

  private json(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
  }
}
