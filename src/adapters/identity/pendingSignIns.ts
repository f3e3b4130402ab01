import { IdentityError } from '../../domain/errors';
import type { IdentitySession, SignInScope } from '../../ports/identityProvider';

/** How a sign-in ended: a session, or why not. */
export type SignInOutcome = { ok: true; session: IdentitySession } | { ok: false; error: IdentityError };

/** A finished sign-in nobody collected is forgotten after this long (its session with it). */
const UNCLAIMED_MS = 15 * 60_000;

/**
 * One request's device-code sign-in while it runs in the background, and its outcome until
 * completeSignIn collects it. Tells completeSignIn whether the first poll that *started after*
 * the call was still pending, so "I have signed in" pressed just after approving never reads the
 * answer of a poll that left before the approval.
 */
export class PendingSignIn {
  private readonly controller = new AbortController();
  private outcome: SignInOutcome | undefined;
  private settledPromise: Promise<SignInOutcome> = new Promise(() => undefined);
  private pollsStarted = 0;
  private waiters: Array<{ after: number; wake: () => void }> = [];

  constructor(
    readonly scope: SignInScope,
    readonly expiresAt: Date,
  ) {}

  get settledOutcome(): SignInOutcome | undefined {
    return this.outcome;
  }

  /** Starts the background work; `work` must stop when its signal aborts. */
  run(work: (signal: AbortSignal) => Promise<IdentitySession>, onSettled: (outcome: SignInOutcome) => void): void {
    this.settledPromise = work(this.controller.signal).then(
      (session): SignInOutcome => ({ ok: true, session }),
      (e): SignInOutcome => ({ ok: false, error: asIdentityError(e) }),
    ).then((outcome) => {
      this.outcome = outcome;
      for (const w of this.waiters.splice(0)) w.wake();
      try {
        onSettled(outcome);
      } catch {
        // A failing observer (a log line) must not turn the outcome into an unhandled rejection.
      }
      return outcome;
    });
  }

  /** Stops the background work (request cancelled); it settles with CANCELLED. */
  cancel(): void {
    this.controller.abort();
  }

  pollStarted(n: number): void {
    this.pollsStarted = n;
  }

  pollPending(n: number): void {
    const woken = this.waiters.filter((w) => w.after < n);
    this.waiters = this.waiters.filter((w) => w.after >= n);
    for (const w of woken) w.wake();
  }

  /** The sign-in now waits for a pick on a card: whoever waits for the next answer hears 'pending'. */
  questionAsked(): void {
    for (const w of this.waiters.splice(0)) w.wake();
  }

  /** The outcome, or 'pending' once a poll that started after this call is answered pending. */
  async nextOutcome(signal?: AbortSignal): Promise<SignInOutcome | 'pending'> {
    if (this.outcome) return this.outcome;
    const after = this.pollsStarted;
    const tick = new Promise<'pending'>((resolve) => this.waiters.push({ after, wake: () => resolve('pending') }));
    const result = await untilAborted(Promise.race([this.settledPromise, tick]), signal);
    return this.outcome ?? result;
  }

  /** The outcome, whenever it comes. */
  settled(signal?: AbortSignal): Promise<SignInOutcome> {
    return untilAborted(this.settledPromise, signal);
  }
}

/** The sign-ins under way or uncollected, by request ID. */
export class PendingSignIns {
  private readonly byRequest = new Map<string, PendingSignIn>();
  private readonly detach = new Map<PendingSignIn, () => void>();
  private readonly timers = new Map<PendingSignIn, NodeJS.Timeout>();

  has(requestId: string): boolean {
    return this.byRequest.has(requestId);
  }

  get(requestId: string): PendingSignIn | undefined {
    return this.byRequest.get(requestId);
  }

  /**
   * Registers a sign-in; `lifetime` aborting cancels it, and drops its session if it finished
   * and nobody collected it.
   */
  add(scope: SignInScope, expiresAt: Date, lifetime?: AbortSignal): PendingSignIn {
    const entry = new PendingSignIn(scope, expiresAt);
    this.byRequest.set(scope.requestId, entry);
    if (lifetime) {
      const onAbort = (): void => {
        entry.cancel();
        if (entry.settledOutcome?.ok) this.remove(entry);
      };
      lifetime.addEventListener('abort', onAbort, { once: true });
      this.detach.set(entry, () => lifetime.removeEventListener('abort', onAbort));
    }
    return entry;
  }

  /** The entry settled: it is forgotten after a while unless collected first. */
  settled(entry: PendingSignIn): void {
    if (this.byRequest.get(entry.scope.requestId) !== entry) return;
    const timer = setTimeout(() => this.remove(entry), UNCLAIMED_MS);
    timer.unref();
    this.timers.set(entry, timer);
  }

  remove(entry: PendingSignIn): void {
    if (this.byRequest.get(entry.scope.requestId) === entry) this.byRequest.delete(entry.scope.requestId);
    this.detach.get(entry)?.();
    this.detach.delete(entry);
    clearTimeout(this.timers.get(entry));
    this.timers.delete(entry);
  }

  /** Cancels every sign-in under way and forgets every uncollected one (shutdown). */
  cancelAll(): void {
    for (const entry of [...this.byRequest.values()]) {
      entry.cancel();
      this.remove(entry);
    }
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
  // Nothing but IdentityErrors should get here; an unknown one keeps only its class name.
  return new IdentityError('INTERNAL', `The AWS sign-in failed (${(e as Error)?.name ?? 'Error'}).`, { hint: 'Start a new request; the log has the time of the failure.' });
}

function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  const cancelled = (): IdentityError => new IdentityError('CANCELLED', 'Waiting for the AWS sign-in was cancelled.', { hint: 'Start a new request to sign in again.' });
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
