import type { StorageSource } from './storageSource';

/** The person a sign-in is for, as the bot knows them (Teams user). */
export interface SignInUser {
  /** Stable user ID: Entra object ID in Teams, the channel user ID in local mode. */
  id: string;
  tenantId?: string;
  name: string;
  /**
   * The user's UPN (or email) as Teams knows it (TeamsInfo.getMember), for the identity check:
   * the person who signs in at the provider must be this user. Absent in local mode.
   */
  upn?: string;
}

/** What a request asks to read: the cloud and region chosen on the request form. */
export interface SignInScope {
  requestId: string;
  user: SignInUser;
  cloud: string;
  region: string;
}

/**
 * What the sign-in card shows. 'continue-as' is a one-click local sign-in; 'device-code' is the
 * OAuth device authorization grant (AWS IAM Identity Center, Entra ID): the user opens the link,
 * enters the code, then presses "I have signed in".
 */
export type SignInChallenge =
  | { kind: 'continue-as'; provider: string; userName: string }
  | { kind: 'device-code'; provider: string; verificationUrl: string; userCode: string; expiresAt: Date };

/**
 * A signed-in session for one request. Its `source` can list and read, never write, and only what
 * the signed-in identity may see. Held in memory only; never stored, logged or put on a card.
 */
export interface IdentitySession {
  readonly requestId: string;
  /** Who the provider says signed in (for audit), never a credential. */
  readonly principal: string;
  readonly source: StorageSource;
  readonly expiresAt?: Date;
}

export type SignInResult = { status: 'pending' } | { status: 'signed-in'; session: IdentitySession };

/**
 * Signs a person in for one request, so the bot lists and reads storage with that person's own
 * rights. One sign-in per request: the workflow never calls `beginSignIn` twice for one request.
 *
 * Methods throw IdentityError with AUTH_FAILED (refused, expired or abandoned sign-in, or a
 * `completeSignIn` for a request whose sign-in already completed: a session is handed out once),
 * ACCESS_DENIED (signed in but no permission for the scope), NETWORK / TIMEOUT (retryable).
 */
export interface IdentityProvider {
  /** Shown on the sign-in card ("Local sign-in", "AWS IAM Identity Center", …). */
  readonly name: string;
  beginSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInChallenge>;
  /**
   * Finishes the sign-in `beginSignIn` started for `scope.requestId`. 'pending' while a device
   * code is not yet approved.
   */
  completeSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInResult>;
  /**
   * Optional: resolves when the sign-in `beginSignIn` started completes on its own (the provider
   * polls in the background, honouring the server's interval), so the bot can move on without a
   * button press. Rejects as `completeSignIn` does (expired, denied, IDENTITY_MISMATCH) or with
   * CANCELLED when `signal` aborts. After it resolves, `completeSignIn` for the same request
   * returns the same session once.
   */
  awaitSignIn?(scope: SignInScope, signal?: AbortSignal): Promise<IdentitySession>;
  /** Forgets every credential of the session and revokes it where the provider can. Never throws. */
  signOut(session: IdentitySession): Promise<void>;
}
