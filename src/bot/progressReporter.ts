import type { Attachment } from 'botbuilder';
import { errorFields, type Logger } from '../log';

/** Where a card lives: its conversation (the rate-limit lane), how to reach it, and the message. */
export interface CardTarget {
  conversationId: string;
  reference: Record<string, unknown>;
  activityId: string;
}

/** Replaces a message's card (ProactiveMessenger.update in production). */
export type CardUpdate = (target: CardTarget, card: Attachment) => Promise<void>;

export interface ProgressReporterOptions {
  /** Least time between two updates in one conversation. Default 2000 ms. */
  intervalMs?: number;
  /** How many 429s one card may meet before it is dropped. Default 8. */
  maxThrottled?: number;
  /** Longest Retry-After honoured, ms. Default 120 000. */
  maxRetryAfterMs?: number;
}

interface Pending {
  target: CardTarget;
  card: Attachment;
  final: boolean;
  throttled: number;
  done: Array<() => void>;
}

interface Lane {
  nextAllowedAt: number;
  busy: boolean;
  timer?: NodeJS.Timeout;
  pending: Map<string, Pending>;
  /** Messages that got their final card: later progress for them is ignored. */
  finished: Set<string>;
  /** JSON of the last card delivered per message, to skip identical updates. */
  lastSent: Map<string, string>;
  lastUsed: number;
}

/**
 * Updates cards in place without flooding the channel: at most one update per `intervalMs` per
 * conversation, newest card wins (intermediate progress is coalesced), a final card (completed,
 * failed) always replaces pending progress and is never overwritten by a late one.
 *
 * On 429 it waits the Retry-After the channel gave (at least `intervalMs`) and sends the newest card
 * then. On 5xx it gives that update up and never posts the card as a new message (a 5xx may
 * have applied, and a re-post would duplicate it); the next progress tick tries again.
 * (botframework-connector's own pipeline already retries a 429/503 a few times honouring
 * Retry-After; this handles what comes back after that, and keeps the lane slowed down.)
 */
export class ProgressReporter {
  private readonly lanes = new Map<string, Lane>();
  private readonly intervalMs: number;
  private readonly maxThrottled: number;
  private readonly maxRetryAfterMs: number;
  private closed = false;

  constructor(
    private readonly updateCard: CardUpdate,
    private readonly log: Logger,
    options: ProgressReporterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.maxThrottled = options.maxThrottled ?? 8;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  }

  /** Queues a progress card; sent when the conversation's lane allows, unless a newer one replaces it. */
  progress(target: CardTarget, card: Attachment): void {
    const lane = this.lane(target.conversationId);
    if (lane.finished.has(target.activityId) || lane.pending.get(target.activityId)?.final) return;
    const old = lane.pending.get(target.activityId);
    lane.pending.set(target.activityId, { target, card, final: false, throttled: old?.throttled ?? 0, done: old?.done ?? [] });
    this.pump(lane);
  }

  /** Queues the final card for a message; resolves once it is delivered or given up. */
  final(target: CardTarget, card: Attachment): Promise<void> {
    const lane = this.lane(target.conversationId);
    lane.finished.add(target.activityId);
    return new Promise((resolve) => {
      const old = lane.pending.get(target.activityId);
      lane.pending.set(target.activityId, { target, card, final: true, throttled: 0, done: [...(old?.done ?? []), resolve] });
      this.pump(lane);
    });
  }

  /**
   * Makes a message take progress again after its final card: a Retry runs a new transfer on the
   * same card, so the earlier final must not freeze it. A final card still waiting to be delivered
   * is kept (it goes out first, then the new progress).
   */
  reopen(target: CardTarget): void {
    const lane = this.lanes.get(target.conversationId);
    if (!lane) return;
    lane.finished.delete(target.activityId);
    lane.lastSent.delete(target.activityId);
  }

  /** Drops every pending update (shutdown). */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.timer);
      for (const p of lane.pending.values()) p.done.forEach((d) => d());
      lane.pending.clear();
    }
  }

  private lane(conversationId: string): Lane {
    const now = Date.now();
    for (const [id, l] of this.lanes) {
      if (!l.busy && !l.timer && l.pending.size === 0 && now - l.lastUsed > 15 * 60_000) this.lanes.delete(id);
    }
    let lane = this.lanes.get(conversationId);
    if (!lane) {
      lane = { nextAllowedAt: 0, busy: false, pending: new Map(), finished: new Set(), lastSent: new Map(), lastUsed: now };
      this.lanes.set(conversationId, lane);
    }
    lane.lastUsed = now;
    return lane;
  }

  private pump(lane: Lane): void {
    if (this.closed || lane.busy || lane.timer || lane.pending.size === 0) return;
    const wait = lane.nextAllowedAt - Date.now();
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.pump(lane);
      }, wait);
      return;
    }
    const [activityId, item] = lane.pending.entries().next().value as [string, Pending];
    lane.pending.delete(activityId);
    const json = JSON.stringify(item.card.content);
    if (lane.lastSent.get(activityId) === json) {
      item.done.forEach((d) => d());
      this.pump(lane);
      return;
    }
    lane.busy = true;
    this.updateCard(item.target, item.card)
      .then(
        () => {
          lane.lastSent.set(activityId, json);
          lane.nextAllowedAt = Date.now() + this.intervalMs;
          item.done.forEach((d) => d());
        },
        (e: unknown) => this.failed(lane, activityId, item, e),
      )
      .finally(() => {
        lane.busy = false;
        this.pump(lane);
      });
  }

  private failed(lane: Lane, activityId: string, item: Pending, e: unknown): void {
    const status = statusOf(e);
    if (status === 429) {
      const retryAfterMs = Math.min(retryAfterOf(e) ?? this.intervalMs, this.maxRetryAfterMs);
      lane.nextAllowedAt = Date.now() + Math.max(retryAfterMs, this.intervalMs);
      item.throttled += 1;
      this.log.warn({ activityId, status, retryAfterMs, throttled: item.throttled }, 'card update throttled; waiting as the channel asked');
      if (item.throttled > this.maxThrottled) {
        this.log.error({ activityId }, 'card update dropped after repeated throttling');
        item.done.forEach((d) => d());
        return;
      }
      // Resend this card unless a newer one for the same message is already waiting.
      const newer = lane.pending.get(activityId);
      if (newer) newer.done.push(...item.done);
      else lane.pending.set(activityId, item);
      return;
    }
    lane.nextAllowedAt = Date.now() + this.intervalMs;
    this.log.warn({ activityId, status, ...errorFields(e) }, status && status >= 500 ? 'card update failed on the channel side; not re-posting' : 'card update failed');
    item.done.forEach((d) => d());
  }
}

/** HTTP status of a failed connector call (RestError and friends). */
export function statusOf(e: unknown): number | undefined {
  const x = e as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } };
  const s = x?.statusCode ?? x?.status ?? x?.response?.status;
  return typeof s === 'number' ? s : undefined;
}

/** Retry-After of a failed call in ms (seconds or an HTTP date), if the channel sent one. */
export function retryAfterOf(e: unknown): number | undefined {
  const headers = (e as { response?: { headers?: unknown } })?.response?.headers as
    | { get?: (name: string) => string | undefined | null; [k: string]: unknown }
    | undefined;
  const raw = typeof headers?.get === 'function' ? headers.get('retry-after') : (headers?.['retry-after'] as string | undefined);
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(String(raw));
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
