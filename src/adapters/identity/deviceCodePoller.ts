import { setTimeout as delay } from 'node:timers/promises';
import { IdentityError } from '../../domain/errors';
import { signInCancelled } from './awsSsoErrors';

/** What one token request said: the grant, still pending, or slow down (pending, and wait 5 s longer). */
export type PollAnswer<T> = { kind: 'granted'; value: T } | { kind: 'pending' } | { kind: 'slow-down' };

/** Waits `ms`, or rejects when `signal` aborts. Injectable so tests run on a virtual clock. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

export interface DeviceCodePollOptions<T> {
  /** The server's `interval` in seconds (RFC 8628 §3.2: 5 when it sends none). */
  intervalSeconds?: number;
  /** When the device code expires: no request is sent at or after it. */
  expiresAt: Date;
  now: () => Date;
  sleep: Sleep;
  /** Stops the polling (request cancelled, sign-out): the poll rejects with CANCELLED. */
  signal: AbortSignal;
  /**
   * One token request. Throws for an end of the sign-in (denied, expired, refused): the poller
   * stops and rethrows it. A `retryable` IdentityError (network, throttling, 5xx) is tried again
   * at the next interval, up to `maxTransientFailures` in a row.
   */
  request: (signal: AbortSignal) => Promise<PollAnswer<T>>;
  /** Called as each token request starts; `n` counts requests from 1. */
  onRequest?: (n: number) => void;
  /** Called when a request ends without the grant: pending, slow-down, or a transient failure to retry. */
  onPending?: (n: number, answer: 'pending' | 'slow-down' | 'retry', intervalMs: number) => void;
  maxTransientFailures?: number;
}

const SLOW_DOWN_STEP_MS = 5_000;
const DEFAULT_INTERVAL_S = 5;

/** The device code expired before anyone approved it. */
export function deviceCodeExpired(expiresAt: Date): IdentityError {
  return new IdentityError('AUTH_FAILED', `The AWS sign-in code expired at ${expiresAt.toISOString()} before it was approved.`, {
    hint: 'Start a new request and approve the sign-in within the time the card shows.',
  });
}

/**
 * The RFC 8628 §3.4–3.5 polling loop of a device authorization grant. It waits `interval`
 * before every token request, the first one included; each slow-down adds 5 s to the interval
 * for that wait and every later one (the interval never shrinks); pending keeps polling. It stops
 * with the grant, with the error `request` throws, with AUTH_FAILED once the code expires (no
 * request is sent past `expiresAt`), or with CANCELLED when `signal` aborts.
 */
export async function pollDeviceCode<T>(options: DeviceCodePollOptions<T>): Promise<T> {
  const { signal, now, sleep, expiresAt } = options;
  let intervalMs = Math.max(0, options.intervalSeconds ?? DEFAULT_INTERVAL_S) * 1000;
  const maxTransient = options.maxTransientFailures ?? 3;
  let transientInARow = 0;
  for (let n = 1; ; n++) {
    const remaining = expiresAt.getTime() - now().getTime();
    if (remaining <= intervalMs) {
      // The next request would go out at or after expiry: wait until the code is dead, then say so.
      await pause(Math.max(0, remaining));
      throw deviceCodeExpired(expiresAt);
    }
    await pause(intervalMs);
    if (now().getTime() >= expiresAt.getTime()) throw deviceCodeExpired(expiresAt);
    options.onRequest?.(n);
    let answer: PollAnswer<T>;
    try {
      answer = await options.request(signal);
      transientInARow = 0;
    } catch (e) {
      if (signal.aborted) throw signInCancelled('The AWS sign-in');
      if (e instanceof IdentityError && e.retryable && ++transientInARow < maxTransient) {
        options.onPending?.(n, 'retry', intervalMs);
        continue;
      }
      throw e;
    }
    if (answer.kind === 'granted') return answer.value;
    if (answer.kind === 'slow-down') intervalMs += SLOW_DOWN_STEP_MS;
    options.onPending?.(n, answer.kind, intervalMs);
  }

  async function pause(ms: number): Promise<void> {
    if (signal.aborted) throw signInCancelled('The AWS sign-in');
    try {
      await sleep(ms, signal);
    } catch (e) {
      if (signal.aborted) throw signInCancelled('The AWS sign-in');
      throw e;
    }
    if (signal.aborted) throw signInCancelled('The AWS sign-in');
  }
}
