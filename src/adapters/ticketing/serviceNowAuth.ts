import { FerryError, TicketingError } from '../../domain/errors';
import { ServiceNowHttpError, retryAfterMs, serverMessage } from './serviceNowErrors';
import { timedFetch, type FetchLike } from './serviceNowHttp';

/**
 * How FileFerry signs in to ServiceNow. Secrets come as functions (the registry resolves a
 * SecretStore reference each time one is needed), never as strings in the configuration.
 * - `basic`: the integration user's name and password on every call.
 * - `oauth`: a token from `/oauth_token.do`, by the password grant when `username` and
 *   `password` are given, else by the client-credentials grant (the OAuth Application User of
 *   the client; needs `glide.oauth.inbound.client.credential.grant_type.enabled`).
 */
export type ServiceNowAuthOptions =
  | { kind: 'basic'; username: string; password: () => Promise<string> }
  | { kind: 'oauth'; clientId: string; clientSecret: () => Promise<string>; username?: string; password?: () => Promise<string> };

export interface ServiceNowAuth {
  /** The Authorization header for the next call. Throws TicketingError (AUTH_FAILED, NETWORK …). */
  authorization(signal?: AbortSignal): Promise<string>;
  /**
   * ServiceNow answered 401 to `authorization`. A cached token is dropped (it may have been
   * revoked); true means one more try with a fresh token is worth it. Basic credentials: false.
   */
  rejected(authorization: string): boolean;
  /** Who ServiceNow sees, for messages (a user or client name, never a secret). */
  readonly who: string;
  /** What to check when ServiceNow refuses the credentials. */
  readonly authHint: string;
}

export interface AuthDeps {
  instance: URL;
  fetch: FetchLike;
  timeoutMs: number;
  now: () => number;
}

export function serviceNowAuth(options: ServiceNowAuthOptions, deps: AuthDeps): ServiceNowAuth {
  return options.kind === 'basic' ? new BasicAuth(options) : new OAuthTokens(options, deps);
}

class BasicAuth implements ServiceNowAuth {
  readonly who: string;
  readonly authHint: string;

  constructor(private readonly options: Extract<ServiceNowAuthOptions, { kind: 'basic' }>) {
    this.who = `the integration user "${options.username}"`;
    this.authHint = `Check that the ServiceNow user "${options.username}" (SERVICENOW_USERNAME) exists, is active and not locked out, and that SERVICENOW_PASSWORD_REF points at its current password.`;
  }

  async authorization(): Promise<string> {
    const password = await secret(this.options.password, 'password (SERVICENOW_PASSWORD_REF)');
    return `Basic ${Buffer.from(`${this.options.username}:${password}`, 'utf8').toString('base64')}`;
  }

  rejected(): boolean {
    return false;
  }
}

interface Token {
  header: string;
  refreshToken?: string;
  /** When to get the next one: a fifth of its life (at most a minute) before it expires. */
  refreshAt: number;
}

/** Tokens from /oauth_token.do, cached and replaced before they expire (by the refresh token when there is one). */
class OAuthTokens implements ServiceNowAuth {
  readonly who: string;
  readonly authHint: string;
  private token?: Token;
  private pending?: Promise<Token>;

  constructor(private readonly options: Extract<ServiceNowAuthOptions, { kind: 'oauth' }>, private readonly deps: AuthDeps) {
    const { clientId, username } = options;
    this.who = username ? `the integration user "${username}" (OAuth client ${clientId})` : `the OAuth Application User of client ${clientId}`;
    this.authHint = username
      ? `Check SERVICENOW_CLIENT_ID and the secret behind SERVICENOW_CLIENT_SECRET_REF (System OAuth > Application Registry), and that the user "${username}" is active with the password SERVICENOW_PASSWORD_REF points at.`
      : `Check SERVICENOW_CLIENT_ID and the secret behind SERVICENOW_CLIENT_SECRET_REF (System OAuth > Application Registry), that the client has an OAuth Application User, and that the instance allows the client-credentials grant.`;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    const now = this.deps.now();
    if (this.token && now < this.token.refreshAt) return this.token.header;
    this.pending ??= this.renew(this.token, signal).finally(() => (this.pending = undefined));
    this.token = await this.pending;
    return this.token.header;
  }

  rejected(authorization: string): boolean {
    if (this.token?.header !== authorization) return false;
    this.token = undefined;
    return true;
  }

  private async renew(old: Token | undefined, signal?: AbortSignal): Promise<Token> {
    if (old?.refreshToken) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: old.refreshToken }, signal);
      } catch (e) {
        // A refused refresh token (expired, revoked) falls back to the first grant; anything else is the answer.
        if ((e as TicketingError).code !== 'AUTH_FAILED') throw e;
      }
    }
    const { username, password } = this.options;
    if (username && password) return this.grant({ grant_type: 'password', username, password: await secret(password, 'password (SERVICENOW_PASSWORD_REF)') }, signal);
    return this.grant({ grant_type: 'client_credentials' }, signal);
  }

  private async grant(fields: Record<string, string>, signal?: AbortSignal): Promise<Token> {
    const url = new URL('oauth_token.do', this.deps.instance);
    const form = new URLSearchParams({ ...fields, client_id: this.options.clientId, client_secret: await secret(this.options.clientSecret, 'client secret (SERVICENOW_CLIENT_SECRET_REF)') });
    const what = `getting an OAuth token (${fields.grant_type} grant) for ${this.who}`;
    const answer = await timedFetch(this.deps.fetch, url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    }, { timeoutMs: this.deps.timeoutMs, signal, what });
    const { status } = answer;
    if (status === 200) {
      let body: { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown; token_type?: unknown } = {};
      try {
        body = JSON.parse(answer.text) as typeof body;
      } catch {
        // handled below
      }
      if (typeof body.access_token !== 'string' || !body.access_token) {
        throw new ServiceNowHttpError('SERVER_ERROR', `ServiceNow (${url.origin}) answered 200 without an access token while ${what}.`, {
          status, hint: 'Check that SERVICENOW_INSTANCE_URL is the instance itself (not a login page or proxy) and that OAuth is active on it.',
        });
      }
      const lifeMs = Math.max(1, Number(body.expires_in) || 1800) * 1000;
      const now = this.deps.now();
      return {
        header: `Bearer ${body.access_token}`,
        ...(typeof body.refresh_token === 'string' && body.refresh_token ? { refreshToken: body.refresh_token } : {}),
        refreshAt: now + lifeMs - Math.min(60_000, lifeMs / 5),
      };
    }
    const said = serverMessage(answer);
    const base = `ServiceNow (${url.origin}) answered ${status}${said ? ` "${said}"` : ''} while ${what}`;
    if (status === 400 || status === 401 || status === 403) {
      throw new ServiceNowHttpError('AUTH_FAILED', `${base}: it did not accept ${this.who}.`, { status, hint: this.authHint });
    }
    if (status === 404) {
      throw new ServiceNowHttpError('INVALID_CONFIG', `${base}: the instance serves no OAuth token endpoint.`, {
        status, hint: 'Check SERVICENOW_INSTANCE_URL, and that OAuth is active on the instance (system property com.snc.platform.security.oauth.is.active), or use Basic authentication.',
      });
    }
    if (status === 429 || status >= 500) {
      const wait = retryAfterMs(answer.headers.get('retry-after'), this.deps.now);
      throw new ServiceNowHttpError(status === 429 ? 'THROTTLED' : 'SERVER_ERROR', `${base}.`, {
        status, hint: 'This is worth retrying; if it keeps failing, check the instance status.', ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      });
    }
    throw new ServiceNowHttpError('INTERNAL', `${base}.`, { status, hint: 'Report this with the FileFerry log; the OAuth endpoint answered in a way FileFerry does not expect.' });
  }
}

/**
 * A secret from its function. A failure (a SecretsError naming the reference, never the value)
 * becomes a TicketingError with the same code, hint and retryability, as the port promises;
 * anything else is reported without its text, which FileFerry does not control.
 */
async function secret(read: () => Promise<string>, what: string): Promise<string> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof TicketingError) throw e;
    if (e instanceof FerryError) throw new TicketingError(e.code, `Could not read the ServiceNow ${what}: ${e.message}`, { hint: e.hint, retryable: e.retryable });
    throw new TicketingError('INTERNAL', `Could not read the ServiceNow ${what}.`, { hint: 'Check the secret reference and the secret store it names; the log has the detail.' });
  }
}
