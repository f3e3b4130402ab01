import type { SSOClient } from '@aws-sdk/client-sso';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { IdentityError } from '../../domain/errors';
import type { IdentityProvider, IdentitySession, SignInChallenge, SignInResult, SignInScope, SignInUser } from '../../ports/identityProvider';
import type { ChoosesRole, RoleAnswer, RoleQuestion } from '../../ports/roleChoice';
import type { StorageSource } from '../../ports/storageSource';
import type { WorkflowLog } from '../../ports/workflowLog';
import { checkAwsIdentity, sameUpnIgnoringCase, type MatchUser } from './awsIdentityCheck';
import { defaultOidcClient, defaultSsoClient, defaultStsClient, oidcSdk, type AwsRoleCredentials, type StsClientFactory } from './awsSsoClients';
import { AwsSsoClientRegistration, type ClientRegistration } from './awsSsoClientRegistration';
import { awsSsoError, signInCancelled } from './awsSsoErrors';
import { chooseRole, getRoleCredentials, logout, type AwsRoleTarget } from './awsSsoRoleCredentials';
import { PendingSignIns, type PendingSignIn } from './pendingSignIns';
import { RolePrompt } from './rolePrompt';
import { createTokenAnswer } from './awsSsoToken';
import { pollDeviceCode, realSleep, type Sleep } from './deviceCodePoller';

export interface AwsSsoIdentityOptions {
  /** The AWS access portal URL (FILEFERRY_AWS_SSO_START_URL), e.g. https://d-1234567890.awsapps.com/start. */
  startUrl: string;
  /** The region IAM Identity Center runs in (FILEFERRY_AWS_SSO_REGION). */
  ssoRegion: string;
  /** The account to read with (FILEFERRY_AWS_ACCOUNT_ID); default: the only one assigned to the user. */
  accountId?: string;
  /** The permission set to read with (FILEFERRY_AWS_ROLE_NAME); default: the only one in the account. */
  roleName?: string;
  /** How long a sign-in waits for the person to pick an account or role. Default 300 s. */
  pickTimeoutSeconds?: number;
  /**
   * Builds the session's read-only source from the role credentials, for the request's region.
   * The registry supplies it (an S3Source); this adapter never imports a source adapter.
   */
  openSource: (credentials: AwsRoleCredentials, region: string) => StorageSource;
  /** Whether the SSO user name is this Teams user. Default: case-insensitive equality with the UPN. */
  matchUser?: (principalName: string, user: SignInUser) => boolean;
  /** Name FileFerry registers under at IAM Identity Center. Default "FileFerry". */
  clientName?: string;
  /** Lifecycle lines (never a token, key or code). Default: none. */
  log?: WorkflowLog;
  /** Clock and wait, injectable for tests. Default: the system clock and a real timer. */
  now?: () => Date;
  sleep?: Sleep;
  /** Ready clients (tests, a root sharing them). Default: clients built for `ssoRegion`, endpoints from AWS_ENDPOINT_URL_*. */
  oidcClient?: SSOOIDCClient;
  ssoClient?: SSOClient;
  stsClient?: StsClientFactory;
}

const PROVIDER = 'AWS IAM Identity Center';
const NOT_BEGUN_HINT = 'Start a new request to sign in.';
/** Tries of each SSO portal step after the grant (ListAccounts…, GetRoleCredentials). */
const PORTAL_ATTEMPTS = 3;

/**
 * Sign-in with AWS IAM Identity Center's device authorization grant; the session reads S3 with
 * the person's own short-lived role credentials.
 *
 * beginSignIn registers FileFerry once (cached until its secret expires), starts a device
 * authorization and, in the background, polls CreateToken (honouring `interval`, slowing down
 * by 5 s on every SlowDownException) until the person approves, refuses, or the code expires.
 * With the token it picks the account and role (configured, the only ones assigned, or picked by
 * the person on a card: ChoosesRole), gets the
 * role credentials, logs the token out at once, and checks with STS GetCallerIdentity that the
 * role session is the Teams user's (`matchUser`). Only then is `openSource` called: credentials
 * of anyone else are dropped unused (IDENTITY_MISMATCH).
 *
 * The `signal` given to beginSignIn is the sign-in's lifetime: when it aborts (the request was
 * cancelled), polling stops and an uncollected session is dropped. The signals of completeSignIn
 * and awaitSignIn bound only those calls.
 *
 * Credentials live only in the closure of the source `openSource` built; this provider keeps no
 * reference once the session is handed out. SSO role credentials cannot be revoked before they
 * expire: signOut forgets the session here, and whoever still holds its source (a running
 * transfer's reader) keeps reading until `expiresAt`.
 */
export class AwsSsoIdentity implements IdentityProvider, ChoosesRole {
  readonly name = PROVIDER;
  private readonly oidc: SSOOIDCClient;
  private readonly sso: SSOClient;
  private readonly stsClient: StsClientFactory;
  private readonly registration: AwsSsoClientRegistration;
  private readonly signIns = new PendingSignIns();
  private readonly signedOut = new WeakSet<IdentitySession>();
  /** The account/role pick each sign-in waits on, by request (the portal token stays in signIn's closure). */
  private readonly prompts = new Map<string, RolePrompt>();
  private readonly roleListeners: Array<(requestId: string, question: RoleQuestion) => void> = [];
  private readonly now: () => Date;
  private readonly sleep: Sleep;
  private readonly matchUser: MatchUser;

  constructor(private readonly options: AwsSsoIdentityOptions) {
    if (!options.startUrl) throw new IdentityError('INVALID_CONFIG', 'AWS IAM Identity Center needs a start URL.', { hint: 'Set FILEFERRY_AWS_SSO_START_URL.' });
    if (!options.ssoRegion) throw new IdentityError('INVALID_CONFIG', 'AWS IAM Identity Center needs its region.', { hint: 'Set FILEFERRY_AWS_SSO_REGION.' });
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? realSleep;
    this.matchUser = options.matchUser ?? sameUpnIgnoringCase;
    this.oidc = options.oidcClient ?? defaultOidcClient(options.ssoRegion);
    this.sso = options.ssoClient ?? defaultSsoClient(options.ssoRegion);
    this.stsClient = options.stsClient ?? defaultStsClient;
    this.registration = new AwsSsoClientRegistration(this.oidc, this.now, options.clientName);
  }

  async beginSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInChallenge> {
    const { requestId } = scope;
    if (this.signIns.has(requestId)) {
      throw alreadyStarted(requestId);
    }
    if (signal?.aborted) throw signInCancelled('Starting the AWS sign-in');
    const registration = await this.registration.get(signal);
    let device;
    try {
      device = await this.oidc.send(
        new (oidcSdk().StartDeviceAuthorizationCommand)({ clientId: registration.clientId, clientSecret: registration.clientSecret, startUrl: this.options.startUrl }),
        { abortSignal: signal },
      );
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidClientException') this.registration.invalidate(registration);
      throw awsSsoError(e, 'Starting the AWS sign-in (StartDeviceAuthorization)', signal);
    }
    const { deviceCode, userCode, verificationUriComplete, verificationUri } = device;
    if (!deviceCode || !userCode || !(verificationUriComplete ?? verificationUri) || !device.expiresIn) {
      throw new IdentityError('SERVER_ERROR', 'AWS IAM Identity Center started a sign-in without a device code, user code, link or expiry.', {
        hint: 'Try again; check FILEFERRY_AWS_SSO_START_URL and AWS_ENDPOINT_URL_SSO_OIDC.',
      });
    }
    const expiresAt = new Date(this.now().getTime() + device.expiresIn * 1000);
    // A second begin for the same request may have raced this one through the awaits above.
    if (this.signIns.has(requestId)) {
      throw alreadyStarted(requestId);
    }
    const entry = this.signIns.add(scope, expiresAt, signal);
    entry.run(
      (lifetime) => this.signIn(entry, registration, { deviceCode, interval: device.interval, expiresAt }, lifetime),
      (outcome) => {
        this.signIns.settled(entry);
        if (outcome.ok) return;
        const fields = { requestId, provider: PROVIDER, errorCode: outcome.error.code, error: outcome.error.message };
        if (outcome.error.code === 'IDENTITY_MISMATCH') this.options.log?.warn(fields, 'AWS sign-in refused: another person signed in');
        else this.options.log?.info(fields, 'AWS sign-in ended without a session');
      },
    );
    this.options.log?.info({ requestId, provider: PROVIDER, expiresAt: expiresAt.toISOString(), interval: device.interval }, 'AWS sign-in started');
    return { kind: 'device-code', provider: PROVIDER, verificationUrl: verificationUriComplete ?? verificationUri!, userCode, expiresAt };
  }

  async completeSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInResult> {
    const entry = this.begun(scope);
    // Approved, and waiting for the person to pick an account or role: nothing to wait for here.
    if (this.prompts.get(scope.requestId)?.question) return { status: 'pending' };
    const outcome = await entry.nextOutcome(signal);
    if (outcome === 'pending') return { status: 'pending' };
    this.signIns.remove(entry);
    if (outcome.ok) return { status: 'signed-in', session: outcome.session };
    throw outcome.error;
  }

  async awaitSignIn(scope: SignInScope, signal?: AbortSignal): Promise<IdentitySession> {
    const outcome = await this.begun(scope).settled(signal);
    if (outcome.ok) return outcome.session;
    throw outcome.error;
  }

  onRoleQuestion(listener: (requestId: string, question: RoleQuestion) => void): void {
    this.roleListeners.push(listener);
  }

  roleQuestion(scope: SignInScope): RoleQuestion | undefined {
    return this.prompts.get(scope.requestId)?.question;
  }

  answerRole(scope: SignInScope, step: RoleQuestion['step'], value: string): Promise<RoleAnswer> {
    const prompt = this.prompts.get(scope.requestId);
    return prompt ? prompt.answer(step, value) : Promise.resolve({ status: 'not-waiting' });
  }

  async signOut(session: IdentitySession): Promise<void> {
    try {
      if (this.signedOut.has(session)) return;
      this.signedOut.add(session);
      // A session only awaitSignIn saw is still held here: drop it.
      this.signIns.dropSession(session);
      this.options.log?.info({ requestId: session.requestId, provider: PROVIDER }, 'AWS session signed out');
    } catch {
      // signOut never throws; there is nothing left to undo.
    }
  }

  /**
   * Shutdown: stops every sign-in under way (they end CANCELLED), forgets uncollected sessions
   * and closes the clients this provider built (ones passed in are the caller's).
   */
  destroy(): void {
    this.signIns.cancelAll();
    if (!this.options.oidcClient) this.oidc.destroy();
    if (!this.options.ssoClient) this.sso.destroy();
  }

  private begun(scope: SignInScope): PendingSignIn {
    const entry = this.signIns.get(scope.requestId);
    if (!entry) throw new IdentityError('AUTH_FAILED', `No AWS sign-in is under way for request ${scope.requestId}.`, { hint: NOT_BEGUN_HINT });
    return entry;
  }

  /** `step`, again after 1 s and 2 s while it fails retryably (THROTTLED, NETWORK, 5xx). */
  private async retrying<T>(step: () => Promise<T>, signal: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (e) {
        if (!(e instanceof IdentityError) || !e.retryable || attempt >= PORTAL_ATTEMPTS || signal.aborted) throw e;
        this.options.log?.debug({ errorCode: e.code, attempt }, 'AWS portal call failed; trying again');
      }
      try {
        await this.sleep(attempt * 1000, signal);
      } catch {
        throw signInCancelled('The AWS sign-in');
      }
    }
  }

  /** Pauses the sign-in on a pick; "I have signed in" pressed meanwhile hears 'pending', not silence. */
  private askRole(entry: PendingSignIn, prompt: RolePrompt, q: Pick<RoleQuestion, 'step' | 'accountId' | 'options'>, signal: AbortSignal): Promise<string> {
    const expiresAt = new Date(this.now().getTime() + (this.options.pickTimeoutSeconds ?? 300) * 1000);
    const picked = prompt.ask({ ...q, expiresAt }, signal);
    entry.questionAsked();
    this.options.log?.info({ requestId: entry.scope.requestId, provider: PROVIDER, step: q.step, options: q.options.length }, 'AWS sign-in waits for the person to pick');
    return picked;
  }

  private tellRoleQuestion(requestId: string, question: RoleQuestion): void {
    for (const listener of this.roleListeners) {
      try {
        listener(requestId, question);
      } catch {
        // A failing listener (the bot posting a card) must not break the sign-in; it logs its own errors.
      }
    }
  }

  /** The background half of a sign-in: poll, role credentials, logout, identity check, session. */
  private async signIn(
    entry: PendingSignIn,
    registration: ClientRegistration,
    device: { deviceCode: string; interval?: number; expiresAt: Date },
    signal: AbortSignal,
  ): Promise<IdentitySession> {
    const { requestId, user, region } = entry.scope;
    const log = this.options.log;
    let accessToken: string | undefined;
    let credentials: AwsRoleCredentials;
    let target: AwsRoleTarget;
    try {
      accessToken = await pollDeviceCode({
        intervalSeconds: device.interval,
        expiresAt: device.expiresAt,
        now: this.now,
        sleep: this.sleep,
        signal,
        request: (s) => createTokenAnswer(this.oidc, registration, device.deviceCode, s, () => this.registration.invalidate(registration)),
        onRequest: (n) => entry.pollStarted(n),
        onPending: (n, answer, intervalMs) => {
          entry.pollPending(n);
          log?.debug({ requestId, poll: n, answer, nextIntervalSeconds: intervalMs / 1000 }, 'AWS sign-in still pending');
        },
      });
      const access = { sso: this.sso, accessToken, signal };
      // The token is good for this one sign-in only, so a throttled or dropped portal call is
      // tried again here, briefly, rather than ending a sign-in the person already approved.
      const configured = { accountId: this.options.accountId, roleName: this.options.roleName };
      const prompt = new RolePrompt((question) => this.tellRoleQuestion(requestId, question), this.now);
      this.prompts.set(requestId, prompt);
      try {
        target = await chooseRole(access, configured, (q) => this.askRole(entry, prompt, q, signal), (call) => this.retrying(call, signal));
      } finally {
        // Past the questions (or failed): an answer waiting on the card hears the sign-in go on.
        if (this.prompts.get(requestId) === prompt) this.prompts.delete(requestId);
        prompt.done();
      }
      const chosen = target;
      credentials = await this.retrying(() => getRoleCredentials(access, chosen), signal);
    } finally {
      // The token has done its job (or the sign-in failed after it came): log it out at once.
      if (accessToken !== undefined) {
        const failure = await logout(this.sso, accessToken);
        accessToken = undefined;
        if (failure) log?.warn({ requestId, errorCode: failure.code, error: failure.message }, 'AWS IAM Identity Center logout failed; the token is dropped anyway');
      }
    }
    try {
      const principal = await checkAwsIdentity(credentials, this.options.ssoRegion, user, { stsClient: this.stsClient, matchUser: this.matchUser, signal });
      if (signal.aborted) throw signInCancelled('The AWS sign-in');
      const session: IdentitySession = { requestId, principal, source: this.options.openSource(credentials, region), expiresAt: credentials.expiration };
      log?.info({ requestId, provider: PROVIDER, principal, accountId: target.accountId, roleName: target.roleName, expiresAt: credentials.expiration.toISOString() }, 'AWS sign-in succeeded');
      return session;
    } catch (e) {
      throw e instanceof IdentityError ? e : awsSsoError(e, 'Finishing the AWS sign-in', signal);
    }
  }
}

function alreadyStarted(requestId: string): IdentityError {
  return new IdentityError('AUTH_FAILED', `A sign-in was already started for request ${requestId}.`, { hint: 'Finish that sign-in, or start a new request.' });
}
