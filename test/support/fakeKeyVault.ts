import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateTestCertificates } from './testCertificates';

/** An error the fake answers with instead of serving the next authorized request. */
export interface KeyVaultFault {
  status: number;
  code: string;
  innerCode?: string;
  message?: string;
}

/** What the fake saw of one request. */
export interface SeenKeyVaultRequest {
  path: string;
  apiVersion?: string;
  /** The bearer token presented, if any. */
  token?: string;
}

/** The resource Key Vault's challenge names in Azure's public cloud; the SDK asks for `<resource>/.default`. */
export const KEY_VAULT_RESOURCE = 'https://vault.azure.net';

/**
 * Azure Key Vault's secrets REST API over HTTPS (the SDK sends bearer tokens over TLS only), for
 * the real @azure/keyvault-secrets client: `GET /secrets/{name}[/{version}]?api-version=…` answers
 * `{"value","id":"<vault>/secrets/<name>/<version>","attributes":{…}}`, and errors are
 * `{"error":{"code","message"[,"innererror"]}}` (404 SecretNotFound, …).
 *
 * Authentication is Key Vault's challenge: a request without a valid `Authorization: Bearer` gets
 * 401 with `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
 * resource="https://vault.azure.net"`. The SDK's keyVaultAuthenticationPolicy sends its first
 * request without a token, parses that header (tenant from the authorization URL's path, scope
 * `<resource>/.default`), gets a token from its credential and sends the request again.
 */
export class FakeKeyVault {
  readonly requests: SeenKeyVaultRequest[] = [];
  private readonly secrets = new Map<string, Array<{ version: string; value: string; created: number }>>();
  private readonly faults: Array<KeyVaultFault | 'stall'> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    /** PEM of the CA that issued the server's certificate, for the client to trust. */
    readonly caPem: string,
    private readonly token: string,
    readonly tenant: string,
  ) {}

  /** Serves on 127.0.0.1 with a certificate for localhost generated into `certDir`; only `token` is accepted. */
  static async start(options: { certDir: string; token: string; tenant?: string }): Promise<FakeKeyVault> {
    const certs = generateTestCertificates(options.certDir);
    let fake!: FakeKeyVault;
    const server = createServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (req, res) => {
      req.resume();
      req.on('end', () => fake.handle(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    fake = new FakeKeyVault(server, port, certs.caPem, options.token, options.tenant ?? randomUUID());
    return fake;
  }

  /** The vault's base URL: `localhost` so the certificate's name matches. */
  get url(): string {
    return `https://localhost:${this.port}`;
  }

  /** Adds a new current version of the secret and returns the version id. */
  put(name: string, value: string): string {
    const version = randomBytes(16).toString('hex');
    const versions = this.secrets.get(name) ?? [];
    versions.push({ version, value, created: Math.floor(Date.now() / 1000) });
    this.secrets.set(name, versions);
    return version;
  }

  failNext(fault: KeyVaultFault): void {
    this.faults.push(fault);
  }

  /** The next authorized request is held, never answered (until close). */
  stallNext(): void {
    this.faults.push('stall');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    this.requests.push({ path: url.pathname, apiVersion: url.searchParams.get('api-version') ?? undefined, ...(bearer ? { token: bearer } : {}) });
    if (bearer !== this.token) {
      // No token yet (the SDK's first request), or a wrong one: challenge, as Key Vault does.
      return this.send(res, 401, { error: { code: 'Unauthorized', message: bearer ? 'AKV10032: Invalid issuer.' : 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${this.tenant}", resource="${KEY_VAULT_RESOURCE}"`,
      });
    }
    if (!url.searchParams.get('api-version')) return this.error(res, { status: 400, code: 'BadParameter', message: 'The api-version query parameter is required.' });
    const fault = this.faults.shift();
    if (fault === 'stall') return;
    if (fault) return this.error(res, fault);
    // The SDK asks for the current version as /secrets/<name>/ (an empty version segment).
    const m = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9A-Za-z]*))?\/?$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return this.error(res, { status: 400, code: 'BadParameter', message: `This fake serves only GET /secrets/{name}[/{version}], not ${req.method} ${url.pathname}.` });
    const [, name, version] = m;
    const versions = this.secrets.get(name!) ?? [];
    const found = version ? versions.find((v) => v.version === version) : versions.at(-1);
    if (!found) {
      return this.error(res, { status: 404, code: 'SecretNotFound', message: `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault.` });
    }
    this.send(res, 200, {
      value: found.value,
      id: `${this.url}/secrets/${name}/${found.version}`,
      attributes: { enabled: true, created: found.created, updated: found.created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      tags: {},
    });
  }

  private error(res: ServerResponse, fault: KeyVaultFault): void {
    const inner = fault.innerCode ? { innererror: { code: fault.innerCode } } : {};
    this.send(res, fault.status, { error: { code: fault.code, message: fault.message ?? fault.code, ...inner } });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-ms-request-id': randomUUID(),
      'x-ms-keyvault-service-version': '1.9.0.0',
      ...headers,
    });
    res.end(text);
  }
}
