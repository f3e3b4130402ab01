import type { IdentityProvider, IdentitySession } from '../ports/identityProvider';
import type { ObjectInfo } from '../ports/storageSource';
import { WorkflowError } from '../domain/workflowError';
import type { WorkflowLog } from '../ports/workflowLog';

/** Where the file picker is: server-side, so a card can never page or jump somewhere unlisted. */
export interface BrowseState {
  container: string;
  prefix: string;
  filter: string;
  /** Token of each page seen so far (index 0: first page, undefined token). */
  pageTokens: (string | undefined)[];
  page: number;
  nextToken?: string;
}

/** One request's sign-in and everything it listed: the allow-list card actions are checked against. */
export interface SignInSession {
  readonly identity: IdentitySession;
  readonly containers: Set<string>;
  /** container → folder prefixes listed (and their parents). */
  readonly prefixes: Map<string, Set<string>>;
  /** `${container}\n${key}` → the object as listed (pins the version). */
  readonly objects: Map<string, ObjectInfo>;
  browse?: BrowseState;
}

export const objectKey = (container: string, key: string): string => `${container}\n${key}`;

/**
 * Why a session ended: its own timers ('auto-logout' after the transfer started, 'browse-window'
 * when nobody browsed), or the end of its request or of the process. Only the timers leave the
 * request's cards behind with nothing to replace them, so only they have the cards closed.
 */
export type SessionEndCause = 'auto-logout' | 'browse-window' | 'request-ended' | 'shutdown';
/** The ends a session comes to by itself, by its own timers. */
export type SessionTimeout = Extract<SessionEndCause, 'auto-logout' | 'browse-window'>;

/**
 * In-memory sign-in sessions, one per request, for as long as the request may browse. Holds only
 * live sessions: the rule that a request signs in at most once, ever, is kept on the request
 * record (`signedInAt`, checked by the workflow), so it survives a restart and nothing here grows
 * with the number of requests. Sessions are never stored, logged or put on a card; `end` signs out
 * at the provider and forgets everything listed.
 */
export class SignInSessions {
  private readonly live = new Map<string, SignInSession>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Sign-ins the provider is still polling for (device code), by request: aborted when the request ends. */
  private readonly pending = new Map<string, AbortController>();

  /** Browse-window timers: a session nobody uses for `idleSeconds` ends by itself. */
  private readonly idle = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly identity: IdentityProvider,
    private readonly log: WorkflowLog,
    private readonly idleSeconds = 300,
    /** Told when a live session ends (signed out): the audit log, and closing its cards; never throws into `end`. */
    private readonly onEnded?: (requestId: string, reason: string, cause: SessionEndCause) => Promise<void>,
  ) {}

  /** Opens the request's session; refuses while one is already live (the caller checks `signedInAt`). */
  open(requestId: string, identity: IdentitySession): SignInSession {
    if (this.live.has(requestId)) throw new WorkflowError('SESSION_ENDED', `Request ${requestId} has already signed in once.`);
    const session: SignInSession = { identity, containers: new Set(), prefixes: new Map(), objects: new Map() };
    this.live.set(requestId, session);
    this.touch(requestId);
    return session;
  }

  get(requestId: string): SignInSession | undefined {
    return this.live.get(requestId);
  }

  /** The live session, or SESSION_ENDED. Using it restarts its browse window. */
  require(requestId: string): SignInSession {
    const s = this.live.get(requestId);
    if (!s) throw new WorkflowError('SESSION_ENDED', `Request ${requestId} has no live sign-in session.`);
    this.touch(requestId);
    return s;
  }

  /** (Re)starts the browse window: `idleSeconds` without a browsing action ends the session. */
  private touch(requestId: string): void {
    clearTimeout(this.idle.get(requestId));
    const timer = setTimeout(() => void this.end(requestId, `no browsing for ${this.idleSeconds} s`, 'browse-window'), this.idleSeconds * 1000);
    timer.unref();
    this.idle.set(requestId, timer);
  }

  /** Ends the session `seconds` from now (auto-logout after a transfer starts; the browse window no longer applies). */
  endAfter(requestId: string, seconds: number, reason: string): void {
    clearTimeout(this.idle.get(requestId));
    this.idle.delete(requestId);
    clearTimeout(this.timers.get(requestId));
    const timer = setTimeout(() => void this.end(requestId, reason, 'auto-logout'), seconds * 1000);
    timer.unref();
    this.timers.set(requestId, timer);
  }

  /** A signal for the provider's background poll of this request's sign-in; `end` aborts it. */
  watch(requestId: string): AbortSignal {
    this.pending.get(requestId)?.abort();
    const controller = new AbortController();
    this.pending.set(requestId, controller);
    return controller.signal;
  }

  /** The background poll has ended (success or failure): nothing left to abort. */
  unwatch(requestId: string, signal: AbortSignal): void {
    if (this.pending.get(requestId)?.signal === signal) this.pending.delete(requestId);
  }

  /** Signs out and forgets the session, and stops a sign-in still being polled. Never throws. */
  async end(requestId: string, reason: string, cause: SessionEndCause = 'request-ended'): Promise<boolean> {
    clearTimeout(this.timers.get(requestId));
    this.timers.delete(requestId);
    clearTimeout(this.idle.get(requestId));
    this.idle.delete(requestId);
    this.pending.get(requestId)?.abort();
    this.pending.delete(requestId);
    const s = this.live.get(requestId);
    if (!s) return false;
    this.live.delete(requestId);
    s.containers.clear();
    s.prefixes.clear();
    s.objects.clear();
    s.browse = undefined;
    try {
      await this.identity.signOut(s.identity);
    } catch (e) {
      this.log.warn({ requestId, error: (e as Error).message }, 'sign-out failed; the session is forgotten anyway');
    }
    this.log.info({ requestId, reason, cause }, 'sign-in session ended');
    await this.onEnded?.(requestId, reason, cause).catch(() => undefined);
    return true;
  }

  async endAll(reason: string): Promise<void> {
    await Promise.all([...new Set([...this.live.keys(), ...this.pending.keys()])].map((id) => this.end(id, reason, 'shutdown')));
  }
}
