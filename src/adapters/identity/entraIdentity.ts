import type { TokenCredential } from '@azure/identity';
import type { AuthenticationResult, DeviceCodeRequest, INetworkModule, PublicClientApplication } from '@azure/msal-node';
import { FerryError, IdentityError } from '../../domain/errors';
import type { IdentityProvider, IdentitySession, SignInChallenge, SignInResult, SignInScope } from '../../ports/identityProvider';
import type { StorageSource } from '../../ports/storageSource';
import type { WorkflowLog } from '../../ports/workflowLog';
import { deviceCodeRefused, entraCancelled, entraError, type DeviceCodeRefusal } from './entraErrors';
import { fetchNetworkClient, observedNetworkClient } from './entraHttpClient';
import { checkEntraIdentity, sameUpnIgnoringCase, type EntraMatchUser } from './entraIdentityCheck';
import { entraAuthority, signInApp } from './entraMsalApp';
import { EntraSignIn, EntraSignIns, untilAborted } from './entraSignIns';
import { userTokenCredential } from './entraTokenCredential';

type DeviceCodeResponse = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];

/** The Azure Storage data-plane scope; openid and profile bring the ID token the identity check reads. */
export const ENTRA_SIGN_IN_SCOPES: readonly string[] = ['https://storage.azure.com/.default', 'openid', 'profile'];

export interface EntraIdentityOptions {
  /** The directory (tenant) ID of the app registration (FILEFERRY_ENTRA_TENANT_ID). */
  tenantId: string;
  /** The public client app registration's application (client) ID (FILEFERRY_ENTRA_CLIENT_ID). */
  clientId: string;
  /**
   * The authority (FILEFERRY_ENTRA_AUTHORITY): https://<login host>/<tenant>, for sovereign clouds
   * and tests. Default https://login.microsoftonline.com/<tenantId>.
   */
  authority?: string;
  /**
   * Builds the session's read-only source from the user's token, for the location the request
   * form names (`scope.region`). The registry supplies it (an AzureBlobSource on the account the
   * location maps to); this adapter never imports a source adapter.
   */
  openSource: (credential: TokenCredential, location: string) => StorageSource;
  /** Whether the ID token's user name is this Teams user. Default: case-insensitive equality with the UPN. */
  matchUser?: EntraMatchUser;
  /** Lifecycle lines, and MSAL's own at debug (never a token or code). Default: none. */
  log?: WorkflowLog;
  /**
   * How MSAL reaches the authority (tests: one that trusts a test CA). Default: Node's fetch,
   * which verifies certificates against the system store and NODE_EXTRA_CA_CERTS.
   */
  networkClient?: INetworkModule;
  /** The clock for the challenge's expiry and the token's. Default: the system clock. */
  now?: () => Date;
}

const PROVIDER = 'Microsoft Entra ID';
const NOT_BEGUN_HINT = 'Start a new request to sign in.';
/** RFC 8628 §3.2: the poll interval when the server names none (MSAL would otherwise poll without pause). */
const DEFAULT_INTERVAL_S = 5;

/**
 * Sign-in with Microsoft Entra ID's device authorization grant through MSAL
 * (`PublicClientApplication.acquireTokenByDeviceCode`); the session reads Azure Blob Storage
 * with the person's own access token.
 *
 * beginSignIn builds a PublicClientApplication for this one sign-in and starts the device code
 * flow; MSAL's deviceCodeCallback gives the challenge, and MSAL keeps polling the token endpoint
 * in the background (every `interval`, only while the answer is authorization_pending; any
 * other answer such as expired_token or authorization_declined ends it as AUTH_FAILED). With the
 * token, MSAL's cache is cleared at once, the ID token's `preferred_username` (or `upn`) is
 * checked against the Teams user (`matchUser`), and only then is `openSource` called with a
 * TokenCredential holding the token in its closure: a token of anyone else is dropped unused
 * (IDENTITY_MISMATCH).
 *
 * The `signal` given to beginSignIn is the sign-in's lifetime: when it aborts (the request was
 * cancelled), MSAL's device-code request is cancelled (`cancel = true`, checked before every
 * poll) and an uncollected session is dropped. The signals of completeSignIn and awaitSignIn
 * bound only those calls.
 *
 * The token lives in the credential's closure only (MSAL's in-memory cache is cleared as soon as
 * the flow ends, and every sign-in has its own PublicClientApplication). Entra ID access tokens
 * cannot be revoked: signOut makes the credential refuse the token from then on, so nothing
 * built or first used after it authenticates. A storage client that already used the token keeps
 * it in its pipeline's token cache (@azure/core-rest-pipeline) until shortly before `expiresAt`:
 * the running transfer's reader finishes, as the sessions rules require.
 */
export class EntraIdentity implements IdentityProvider {
  readonly name = PROVIDER;
  private readonly authority: string;
  private readonly network: INetworkModule;
  private readonly matchUser: EntraMatchUser;
  private readonly now: () => Date;
  private readonly revokers = new WeakMap<IdentitySession, () => void>();
  private readonly signIns = new EntraSignIns((session) => this.revoke(session));

  constructor(private readonly options: EntraIdentityOptions) {
    if (!options.tenantId) throw new IdentityError('INVALID_CONFIG', 'Entra ID sign-in needs a tenant ID.', { hint: 'Set FILEFERRY_ENTRA_TENANT_ID.' });
    if (!options.clientId) throw new IdentityError('INVALID_CONFIG', 'Entra ID sign-in needs a client ID.', { hint: 'Set FILEFERRY_ENTRA_CLIENT_ID to a public client app registration.' });
    this.authority = entraAuthority(options.tenantId, options.authority);
    this.network = options.networkClient ?? fetchNetworkClient();
    this.matchUser = options.matchUser ?? sameUpnIgnoringCase;
    this.now = options.now ?? (() => new Date());
  }

  async beginSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInChallenge> {
    const { requestId } = scope;
    if (this.signIns.has(requestId)) {
      throw new IdentityError('AUTH_FAILED', `A sign-in was already started for request ${requestId}.`, { hint: 'Finish that sign-in, or start a new request.' });
    }
    if (signal?.aborted) throw entraCancelled('Starting the Microsoft sign-in');
    const log = this.options.log;

    let refusal: DeviceCodeRefusal | undefined;
    const codes: { device?: string; user?: string } = {};
    const got: { device?: DeviceCodeResponse } = {};
    let announce!: (ok: boolean) => void;
    const announced = new Promise<boolean>((resolve) => (announce = resolve));
    const request: DeviceCodeRequest = {
      scopes: [...ENTRA_SIGN_IN_SCOPES],
      // Called by MSAL just before its first poll, which starts synchronously after it returns:
      // a refused or broken answer stops the poll here, before any token request goes out.
      deviceCodeCallback: (response) => {
        codes.device = response.deviceCode;
        codes.user = response.userCode;
        const usable = !refusal && !!response.deviceCode && !!response.userCode && !!response.verificationUri && response.expiresIn > 0;
        if (!usable) request.cancel = true;
        // MSAL polls every `interval` seconds from this very object; never let it poll without pause.
        if (!(response.interval > 0)) response.interval = DEFAULT_INTERVAL_S;
        got.device = response;
        announce(usable);
      },
    };
    const entry = new EntraSignIn(scope, () => {
      request.cancel = true;
    });
    const app = signInApp({
      clientId: this.options.clientId,
      authority: this.authority,
      requestId,
      log,
      secrets: () => [codes.device, codes.user],
      networkClient: observedNetworkClient(this.network, {
        pollStarted: (n) => entry.pollStarted(n),
        pollPending: (n) => {
          entry.pollPending(n);
          log?.debug({ requestId, poll: n }, 'Microsoft sign-in still pending');
        },
        deviceCodeRefused: (r) => {
          refusal = r;
        },
      }),
    });

    this.signIns.add(entry, signal);
    const acquired = app.acquireTokenByDeviceCode(request);
    // Whatever the end, MSAL's cache is emptied as soon as the flow is over: no token outlives it there.
    const flow = acquired.finally(() => app.clearCache());
    flow.catch(() => undefined);

    let usable: boolean;
    try {
      usable = await untilAborted(Promise.race([announced, flow.then(() => false)]), signal);
    } catch (e) {
      this.signIns.remove(entry);
      entry.cancel();
      throw refusal ? deviceCodeRefused(refusal, 'Starting the Microsoft sign-in') : entraError(e, 'Starting the Microsoft sign-in', signal);
    }
    const device = got.device;
    if (!usable || !device) {
      this.signIns.remove(entry);
      entry.cancel();
      if (refusal) throw deviceCodeRefused(refusal, 'Starting the Microsoft sign-in');
      throw new IdentityError('SERVER_ERROR', 'Microsoft Entra ID started a sign-in without a device code, user code, link or expiry.', {
        hint: 'Try again; ask the administrator to check FILEFERRY_ENTRA_AUTHORITY if it keeps happening.',
      });
    }
    const expiresAt = new Date(this.now().getTime() + device.expiresIn * 1000);
    entry.run(
      (lifetime) => this.finish(entry, app, flow, lifetime),
      (outcome) => {
        this.signIns.settled(entry);
        if (!outcome.ok) log?.info({ requestId, provider: PROVIDER, errorCode: outcome.error.code, error: outcome.error.message }, 'Microsoft sign-in ended without a session');
      },
    );
    log?.info({ requestId, provider: PROVIDER, expiresAt: expiresAt.toISOString(), interval: device.interval }, 'Microsoft sign-in started');
    return { kind: 'device-code', provider: PROVIDER, verificationUrl: device.verificationUri, userCode: device.userCode, expiresAt };
  }

  async completeSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInResult> {
    const entry = this.begun(scope);
    const outcome = await entry.nextOutcome(signal);
    if (outcome === 'pending') return { status: 'pending' };
    this.signIns.remove(entry);
    if (!outcome.ok) throw outcome.error;
    entry.handedOut = true;
    return { status: 'signed-in', session: outcome.session };
  }

  async awaitSignIn(scope: SignInScope, signal?: AbortSignal): Promise<IdentitySession> {
    const entry = this.begun(scope);
    const outcome = await entry.settled(signal);
    if (!outcome.ok) throw outcome.error;
    entry.handedOut = true;
    return outcome.session;
  }

  async signOut(session: IdentitySession): Promise<void> {
    try {
      const revoke = this.revokers.get(session);
      if (!revoke) return;
      this.revoke(session);
      // A session only awaitSignIn saw is still held here: drop it.
      this.signIns.dropSession(session);
      this.options.log?.info({ requestId: session.requestId, provider: PROVIDER }, 'Microsoft session signed out');
    } catch {
      // signOut never throws; there is nothing left to undo.
    }
  }

  private revoke(session: IdentitySession): void {
    this.revokers.get(session)?.();
    this.revokers.delete(session);
  }

  private begun(scope: SignInScope): EntraSignIn {
    const entry = this.signIns.get(scope.requestId);
    if (!entry) throw new IdentityError('AUTH_FAILED', `No Microsoft sign-in is under way for request ${scope.requestId}.`, { hint: NOT_BEGUN_HINT });
    return entry;
  }

  /** The background half: MSAL's polling ends, the identity check, the credential, the session. */
  private async finish(entry: EntraSignIn, app: PublicClientApplication, flow: Promise<AuthenticationResult | null>, lifetime: AbortSignal): Promise<IdentitySession> {
    const { requestId, user, region } = entry.scope;
    const log = this.options.log;
    let result: AuthenticationResult | null;
    try {
      result = await untilAborted(flow, lifetime);
    } catch (e) {
      throw entraError(e, 'The Microsoft sign-in', lifetime);
    }
    // Belt and braces: the cache was cleared when the flow ended; nothing is read from it.
    app.clearCache();
    const accessToken = result?.accessToken;
    const expiresOn = result?.expiresOn;
    if (!accessToken || !expiresOn || Number.isNaN(expiresOn.getTime())) {
      throw new IdentityError('SERVER_ERROR', 'Microsoft Entra ID ended the sign-in without an access token or its expiry.', { hint: 'Start a new request; ask the administrator to check FILEFERRY_ENTRA_AUTHORITY if it keeps happening.' });
    }
    let principal: string;
    try {
      principal = checkEntraIdentity(result?.idTokenClaims, user, this.matchUser);
    } catch (e) {
      result = null;
      if (e instanceof IdentityError && e.code === 'IDENTITY_MISMATCH') log?.warn({ requestId, provider: PROVIDER, error: e.message }, 'Microsoft sign-in refused: another person signed in');
      throw e;
    }
    result = null;
    if (lifetime.aborted) throw entraCancelled('The Microsoft sign-in');
    const { credential, revoke } = userTokenCredential(accessToken, expiresOn, requestId, this.now);
    let source: StorageSource;
    try {
      source = this.options.openSource(credential, region);
    } catch (e) {
      revoke();
      if (e instanceof IdentityError) throw e;
      if (e instanceof FerryError) throw new IdentityError(e.code, e.message, { hint: e.hint, retryable: e.retryable });
      throw new IdentityError('INTERNAL', `FileFerry could not open Azure Storage for location ${region} (${(e as Error)?.name ?? 'Error'}).`, { hint: 'Start a new request; the log has the time of the failure.' });
    }
    const session: IdentitySession = { requestId, principal, source, expiresAt: expiresOn };
    this.revokers.set(session, revoke);
    log?.info({ requestId, provider: PROVIDER, principal, expiresAt: expiresOn.toISOString() }, 'Microsoft sign-in succeeded');
    return session;
  }
}
