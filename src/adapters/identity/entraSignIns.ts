import { IdentityError } from '../../domain/errors';
import type { IdentitySession, SignInScope } from '../../ports/identityProvider';
import { entraCancelled } from './entraErrors';

/** How a sign-in ended: a session, or why not. */
export type EntraSignInOutcome = { ok: true; session: IdentitySession } | { ok: false; error: IdentityError };

/** A finished sign-in nobody collected is forgotten after this long (its token with it). */
const UNCLAIMED_MS = 15 * 60_000;

/**
 * One request's device-code sign-in while MSAL polls in the background, and its outcome until
 * completeSignIn collects it. It counts MSAL's token polls (seen on the wire), so completeSignIn
 * can answer 'pending' from a poll that *started after* the call: "I have signed in" pressed just
 * after approving never reads the answer of a poll that left before the approval.
 */
export class EntraSignIn {
  private readonly lifetime = new AbortController();
  private outcome: EntraSignInOutcome | undefined;
  private settledPromise: Promise<EntraSignInOutcome> = new Promise(() => undefined);
  private pollsStarted = 0;
  private waiters: Array<{ after: number; wake: () => void }> = [];
  /** The session reached someone (completeSignIn or awaitSignIn): only signOut may end it now. */
  handedOut = false;

  constructor(
    readonly scope: SignInScope,
    /** Stops MSAL's polling (sets the device-code request's `cancel`). */
    private readonly stopPolling: () => void,
  ) {}

  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  get settledOutcome(): EntraSignInOutcome | undefined {
    return this.outcome;
  }

  /** Starts the background half; `work` must settle promptly once `signal` aborts. */
  run(work: (signal: AbortSignal) => Promise<IdentitySession>, onSettled: (outcome: EntraSignInOutcome) => void): void {
    this.settledPromise = work(this.lifetime.signal)
      .then(
        (session): EntraSignInOutcome => ({ ok: true, session }),
        (e: unknown): EntraSignInOutcome => ({ ok: false, error: asIdentityError(e) }),
      )
      .then((outcome) => {
        this.outcome = outcome;
        for (const w of this.waiters.splice(0)) w.wake();
        onSettled(outcome);
        return outcome;
      });
  }

  /** The request was cancelled: MSAL stops polling, the sign-in settles with CANCELLED. */
  cancel(): void {
    this.stopPolling();
    this.lifetime.abort();
  }

  pollStarted(n: number): void {
    this.pollsStarted = n;
  }

  pollPending(n: number): void {
    const woken = this.waiters.filter((w) => w.after < n);
    this.waiters = this.waiters.filter((w) => w.after >= n);
    for (const w of woken) w.wake();
  }

  /** The outcome, or 'pending' once a poll that started after this call is answered pending. */
  async nextOutcome(signal?: AbortSignal): Promise<EntraSignInOutcome | 'pending'> {
    if (this.outcome) return this.outcome;
    const after = this.pollsStarted;
    const tick = new Promise<'pending'>((resolve) => this.waiters.push({ after, wake: () => resolve('pending') }));
    const result = await untilAborted(Promise.race([this.settledPromise, tick]), signal);
    return this.outcome ?? result;
  }

  settled(signal?: AbortSignal): Promise<EntraSignInOutcome> {
    return untilAborted(this.settledPromise, signal);
  }
}

/**
 * The sign-ins under way or uncollected, by request ID. `revoke` forgets a session's token: it
 * runs for a session nobody was handed when its sign-in is cancelled or left unclaimed.
 */
export class EntraSignIns {
  private readonly byRequest = new Map<string, EntraSignIn>();
  private readonly cleanups = new Map<EntraSignIn, () => void>();

  constructor(private readonly revoke: (session: IdentitySession) => void) {}

  has(requestId: string): boolean {
    return this.byRequest.has(requestId);
  }

  get(requestId: string): EntraSignIn | undefined {
    return this.byRequest.get(requestId);
  }

  /** Registers `entry`; `lifetime` aborting (the request was cancelled) cancels it. */
  add(entry: EntraSignIn, lifetime?: AbortSignal): void {
    this.byRequest.set(entry.scope.requestId, entry);
    if (!lifetime) return;
    const onAbort = (): void => {
      entry.cancel();
      const outcome = entry.settledOutcome;
      if (outcome?.ok) this.remove(entry, { revokeUnclaimed: true });
    };
    if (lifetime.aborted) onAbort();
    else {
      lifetime.addEventListener('abort', onAbort, { once: true });
      this.cleanups.set(entry, () => lifetime.removeEventListener('abort', onAbort));
    }
  }

  /** The sign-in settled: unless collected, it is forgotten after a while (an unclaimed token dropped). */
  settled(entry: EntraSignIn): void {
    if (this.byRequest.get(entry.scope.requestId) !== entry) return;
    const timer = setTimeout(() => this.remove(entry, { revokeUnclaimed: true }), UNCLAIMED_MS);
    timer.unref();
    const previous = this.cleanups.get(entry);
    this.cleanups.set(entry, () => {
      previous?.();
      clearTimeout(timer);
    });
  }

  remove(entry: EntraSignIn, options: { revokeUnclaimed?: boolean } = {}): void {
    if (this.byRequest.get(entry.scope.requestId) === entry) this.byRequest.delete(entry.scope.requestId);
    this.cleanups.get(entry)?.();
    this.cleanups.delete(entry);
    const outcome = entry.settledOutcome;
    if (options.revokeUnclaimed && outcome?.ok && !entry.handedOut) this.revoke(outcome.session);
  }

  /** Forgets the entry holding `session`, if any (signOut of a session only awaitSignIn saw). */
  dropSession(session: IdentitySession): void {
    const entry = this.byRequest.get(session.requestId);
    const outcome = entry?.settledOutcome;
    if (entry && outcome?.ok && outcome.session === session) this.remove(entry);
  }
}

function asIdentityError(e: unknown): IdentityError {
  if (e instanceof IdentityError) return e;
  // Only IdentityErrors should get here; an unknown one keeps only its class name.
  return new IdentityError('INTERNAL', `The Microsoft sign-in failed (${(e as Error)?.name ?? 'Error'}).`, { hint: 'Start a new request; the log has the time of the failure.' });
}

/** `promise`, or CANCELLED as soon as `signal` aborts (the promise itself runs on). */
export function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(entraCancelled('Waiting for the Microsoft sign-in'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(entraCancelled('Waiting for the Microsoft sign-in'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
