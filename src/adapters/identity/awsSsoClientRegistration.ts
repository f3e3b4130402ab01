import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { IdentityError } from '../../domain/errors';
import { oidcSdk } from './awsSsoClients';
import { awsSsoError } from './awsSsoErrors';

/** An OIDC public client registration: what StartDeviceAuthorization and CreateToken present. */
export interface ClientRegistration {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly expiresAt: Date;
}

/**
 * Renew this long before the client secret expires, so a device-code sign-in (AWS gives the code
 * 10 minutes) never runs into the expiry halfway.
 */
const RENEW_BEFORE_MS = 15 * 60_000;

/**
 * FileFerry's registration as an OIDC public client of IAM Identity Center (RegisterClient),
 * made once and shared by every sign-in until shortly before `clientSecretExpiresAt` (AWS: 90
 * days), never once per request. Concurrent sign-ins share one RegisterClient call; a failed one
 * is not cached; `invalidate` (after InvalidClientException) makes the next sign-in register
 * again. The secret stays in this object, never in a log or error.
 */
export class AwsSsoClientRegistration {
  private current: Promise<ClientRegistration> | undefined;

  constructor(
    private readonly client: SSOOIDCClient,
    private readonly now: () => Date,
    private readonly clientName = 'FileFerry',
  ) {}

  async get(signal?: AbortSignal): Promise<ClientRegistration> {
    const cached = this.current;
    if (cached) {
      const registration = await cached.catch(() => undefined);
      if (registration && registration.expiresAt.getTime() - RENEW_BEFORE_MS > this.now().getTime()) return registration;
      if (this.current === cached) this.current = undefined;
    }
    const fresh = (this.current ??= this.register(signal));
    try {
      return await fresh;
    } catch (e) {
      if (this.current === fresh) this.current = undefined;
      throw e;
    }
  }

  /** Forgets the registration (AWS no longer accepts it); the next `get` registers again. */
  invalidate(registration: ClientRegistration): void {
    void this.current?.then((r) => {
      if (r === registration) this.current = undefined;
    }, () => undefined);
  }

  private async register(signal?: AbortSignal): Promise<ClientRegistration> {
    const sdk = oidcSdk();
    let out;
    try {
      // No scopes: a "legacy" registration whose device tokens cannot be refreshed, so no refresh
      // token is ever handed to FileFerry; the access token lives only until Logout.
      out = await this.client.send(new sdk.RegisterClientCommand({ clientName: this.clientName, clientType: 'public' }), { abortSignal: signal });
    } catch (e) {
      throw awsSsoError(e, 'Registering FileFerry with AWS IAM Identity Center', signal);
    }
    if (!out.clientId || !out.clientSecret || !out.clientSecretExpiresAt) {
      throw new IdentityError('SERVER_ERROR', 'AWS IAM Identity Center answered RegisterClient without a client ID, secret or expiry.', {
        hint: 'Try again; check AWS_ENDPOINT_URL_SSO_OIDC if it points at a proxy or test server.',
      });
    }
    // clientSecretExpiresAt is epoch seconds (botocore: fromtimestamp).
    return { clientId: out.clientId, clientSecret: out.clientSecret, expiresAt: new Date(out.clientSecretExpiresAt * 1000) };
  }
}
