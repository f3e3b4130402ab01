import { NotifyError } from '../../domain/errors';
import type { NotifyResult } from '../../ports/notifier';
import { backoffDelay, sleep as wait } from '../../transfer/backoff';

/** One attempt's failure; `retryAfterMs` is what the service asked for (429 Retry-After). */
export interface AttemptFailure {
  error: NotifyError;
  retryAfterMs?: number;
}

export interface DeliveryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Deadline of each attempt. */
  timeoutMs: number;
  baseDelayMs: number;
  /** Longest pause between attempts, also when Retry-After asks for more. */
  maxDelayMs: number;
  /** What the deadline message names ("the Teams Workflows webhook (FILEFERRY_AUDIT_WEBHOOK_URL)"). */
  what: string;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the attempts are used up: every attempt
 * under its own deadline (a stalled service never holds up the end of a request for long),
 * retryable failures paused with exponential backoff and jitter, or the service's Retry-After
 * when it gave one (capped). Resolves with the outcome; never throws. A timed-out attempt may
 * still have been delivered, so a notification is at-least-once.
 */
export async function deliver(attempt: (signal: AbortSignal) => Promise<AttemptFailure | undefined>, policy: DeliveryPolicy): Promise<NotifyResult> {
  const pause = policy.sleep ?? ((ms: number) => wait(ms));
  for (let n = 1; ; n++) {
    const failure = await withDeadline(attempt, policy);
    if (!failure) return { delivered: true, attempts: n };
    if (!failure.error.retryable || n >= policy.attempts) return { delivered: false, attempts: n, error: failure.error };
    const backoff = backoffDelay(n, policy.baseDelayMs, policy.maxDelayMs);
    // Never sooner than the service asked, never sooner than the backoff, never longer than the cap.
    await pause(Math.min(policy.maxDelayMs, Math.max(failure.retryAfterMs ?? 0, backoff)));
  }
}

async function withDeadline(attempt: (signal: AbortSignal) => Promise<AttemptFailure | undefined>, policy: DeliveryPolicy): Promise<AttemptFailure | undefined> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<AttemptFailure>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ error: new NotifyError('TIMEOUT', `${capitalised(policy.what)} did not answer within ${policy.timeoutMs} ms.`, { hint: 'It is tried again a few times; if this keeps happening, check that the service is up and reachable from FileFerry.' }) });
    }, policy.timeoutMs);
  });
  try {
    // The race also covers an attempt that ignores its signal (an SDK call without one).
    return await Promise.race([attempt(controller.signal).catch((e: unknown) => ({ error: unexpected(e, policy.what) })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fault the attempt did not map: named by its type only, since a raw message might hold a URL. */
function unexpected(e: unknown, what: string): NotifyError {
  if (e instanceof NotifyError) return e;
  const kind = (e as Error)?.name ?? typeof e;
  return new NotifyError('INTERNAL', `Posting to ${what} failed unexpectedly (${kind}).`, { hint: 'Report this; the FileFerry log has the request ID.' });
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
