import { isFerryError } from '../domain/errors';
import type { TicketRef } from '../domain/tickets';
import type { DocumentStore, StoredDocument } from '../ports/documentStore';
import type { WorkflowLog } from '../ports/workflowLog';
import { backoffDelay, sleep } from '../transfer/backoff';

/** The collection queued ticket writes live in. */
export const TICKET_OUTBOX = 'ticket-outbox';

/** One write to one ticket, as queued. Plain text only: notes never carry a secret. */
export interface OutboxEntry {
  requestId: string;
  ticket: TicketRef;
  /** 'note' adds a work note; 'resolve' and 'fail' close the ticket with `text` as the closing note. */
  action: 'note' | 'resolve' | 'fail';
  text: string;
  /** ISO-8601 UTC, when it was queued. */
  queuedAt: string;
}

export interface OutboxOptions {
  /** Sends one entry; throws a FerryError (retryable or not) when it cannot. */
  deliver: (entry: OutboxEntry, signal: AbortSignal) => Promise<void>;
  /** Told about an entry given up because its error is final (it is removed from the queue). */
  onDropped: (entry: OutboxEntry, error: unknown) => Promise<void>;
  log: WorkflowLog;
  /** First pause after a retryable failure; it doubles per attempt up to `maxDelayMs`. Default 2 s. */
  baseDelayMs?: number;
  /** Default 60 s: an outage is retried once a minute for as long as it lasts. */
  maxDelayMs?: number;
  now?: () => Date;
}

interface Queued {
  seq: number;
  entry: OutboxEntry;
  /** False when the store refused it: it is delivered from memory and lost on a crash. */
  stored: boolean;
}

interface RequestQueue {
  entries: Queued[];
  nextSeq: number;
  /** Adds (store writes) in call order; the pump starts after each. */
  tail: Promise<void>;
  pumping?: Promise<void>;
  /** Set while the head entry waits to be retried: nothing behind it moves until it goes. */
  parked: boolean;
  wake: (() => void)[];
}

/**
 * A durable, per-request queue of ticket writes. Each entry is written to the DocumentStore
 * before it is sent (ids `<requestId>/<seq>`, zero-padded, so the store's id order is the order
 * they were queued in), and removed once the ticketing system took it. A retryable failure
 * (outage, 429, 5xx) leaves it at the head of its request's queue and tries again with growing
 * pauses, so a request's notes arrive in order however long the outage lasts; a final one
 * (AUTH_FAILED, NOT_FOUND …) is reported through `onDropped` and removed, so it never blocks the
 * notes behind it. `resume` picks up what an earlier process left. Requests are independent:
 * one request's stuck ticket never delays another's.
 *
 * Delivery is at least once: a crash between the send and the removal sends that entry again.
 */
export class TicketOutbox {
  private readonly queues = new Map<string, RequestQueue>();
  private readonly stopping = new AbortController();
  private readonly now: () => Date;

  constructor(
    private readonly store: DocumentStore,
    private readonly options: OutboxOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Queues `writes` behind everything queued for the request; returns once they are stored (or kept in memory). Never rejects. */
  enqueue(requestId: string, writes: Omit<OutboxEntry, 'requestId' | 'queuedAt'>[]): Promise<void> {
    const queue = this.queueOf(requestId);
    const step = queue.tail.then(async () => {
      if (this.stopping.signal.aborted) return;
      for (const write of writes) {
        const entry: OutboxEntry = { requestId, ...write, queuedAt: this.now().toISOString() };
        queue.entries.push({ ...(await this.save(requestId, queue, entry)), entry });
      }
      this.pump(requestId, queue);
    });
    queue.tail = step.catch((e: unknown) => this.options.log.error({ requestId, error: message(e) }, 'could not queue a ticket write'));
    return queue.tail;
  }

  /**
   * Resolves once every write queued so far for the request is delivered or dropped, or is
   * waiting for the ticketing system to come back (it is then retried in the background). So the
   * end of a request can wait for its notes without ever waiting on an outage.
   */
  async settled(requestId: string): Promise<void> {
    const queue = this.queues.get(requestId);
    if (!queue) return;
    await queue.tail;
    while (queue.pumping && !queue.parked) await new Promise<void>((resolve) => queue.wake.push(resolve));
  }

  /** Resolves once nothing is queued for the request any more (delivered or dropped), outage or not. */
  async drained(requestId: string): Promise<void> {
    const queue = this.queues.get(requestId);
    if (!queue) return;
    await queue.tail;
    while (queue.pumping) await new Promise<void>((resolve) => queue.wake.push(resolve));
  }

  /** How many writes are queued for the request in this process. */
  pending(requestId: string): number {
    return this.queues.get(requestId)?.entries.length ?? 0;
  }

  /** At start-up: loads every write an earlier process left queued and sends them, in order per request. Returns how many. */
  async resume(): Promise<number> {
    const requests = new Set<string>();
    for (let after: string | undefined; ; ) {
      const page = await this.store.list<OutboxEntry>(TICKET_OUTBOX, { ...(after !== undefined ? { after } : {}), limit: 100 });
      for (const doc of page) requests.add(doc.body.requestId);
      if (page.length < 100) break;
      after = page.at(-1)!.id;
    }
    let found = 0;
    for (const requestId of requests) {
      const queue = this.queueOf(requestId);
      // Loading happens on the queue's own chain; count after it ran.
      await queue.tail;
      found += queue.entries.length;
      this.pump(requestId, queue);
    }
    return found;
  }

  /** Stops sending (shutdown): an entry being sent is given up to the next start, never dropped. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('FileFerry is shutting down'));
    await Promise.all([...this.queues.values()].map((q) => q.tail.then(() => q.pumping)));
  }

  private queueOf(requestId: string): RequestQueue {
    let queue = this.queues.get(requestId);
    if (queue) return queue;
    queue = { entries: [], nextSeq: 1, tail: Promise.resolve(), parked: false, wake: [] };
    this.queues.set(requestId, queue);
    // What an earlier process left for this request goes first, and the numbering goes on after it.
    const q = queue;
    queue.tail = this.load(requestId, q).catch((e: unknown) =>
      this.options.log.error({ requestId, error: message(e) }, 'could not read the queued ticket writes; new ones are queued after them in the store'),
    );
    return queue;
  }

  private async load(requestId: string, queue: RequestQueue): Promise<void> {
    const prefix = idPrefix(requestId);
    for (let after: string | undefined; ; ) {
      const page: StoredDocument<OutboxEntry>[] = await this.store.list<OutboxEntry>(TICKET_OUTBOX, { prefix, ...(after !== undefined ? { after } : {}), limit: 100 });
      for (const doc of page) {
        const seq = Number(doc.id.slice(prefix.length));
        if (!Number.isSafeInteger(seq)) continue;
        queue.entries.push({ seq, entry: doc.body, stored: true });
        queue.nextSeq = Math.max(queue.nextSeq, seq + 1);
      }
      if (page.length < 100) break;
      after = page.at(-1)!.id;
    }
  }

  /** Writes the entry under the next free number; a store that refuses it leaves it in memory only (logged). */
  private async save(requestId: string, queue: RequestQueue, entry: OutboxEntry): Promise<{ seq: number; stored: boolean }> {
    for (let tries = 0; ; tries++) {
      const seq = queue.nextSeq++;
      try {
        await this.store.put(TICKET_OUTBOX, docId(requestId, seq), entry, { ifVersion: 0 });
        return { seq, stored: true };
      } catch (e) {
        // CONFLICT: another writer (or an unread earlier process) holds this number; take the next one.
        if (isFerryError(e) && e.code === 'CONFLICT' && tries < 1000) continue;
        this.options.log.error({ requestId, ticket: entry.ticket.number, error: message(e) }, 'the ticket write could not be queued in the store; it is sent from memory and a crash before then loses it');
        return { seq, stored: false };
      }
    }
  }

  private pump(requestId: string, queue: RequestQueue): void {
    if (queue.pumping || this.stopping.signal.aborted) return;
    queue.pumping = this.deliverAll(requestId, queue)
      .catch((e: unknown) => this.options.log.error({ requestId, error: message(e) }, 'the ticket outbox stopped unexpectedly'))
      .finally(() => {
        queue.pumping = undefined;
        queue.parked = false;
        this.wakeAll(queue);
        if (queue.entries.length > 0 && !this.stopping.signal.aborted) this.pump(requestId, queue);
        else if (queue.entries.length === 0) this.forgetIfIdle(requestId, queue);
      });
  }

  private async deliverAll(requestId: string, queue: RequestQueue): Promise<void> {
    const signal = this.stopping.signal;
    for (let attempt = 1; queue.entries.length > 0 && !signal.aborted; ) {
      const head = queue.entries[0]!;
      try {
        await this.options.deliver(head.entry, signal);
      } catch (e) {
        if (signal.aborted) return;
        if (isFerryError(e) && e.retryable) {
          const wait = backoffDelay(attempt, this.options.baseDelayMs ?? 2_000, this.options.maxDelayMs ?? 60_000);
          this.options.log.warn({ requestId, ticket: head.entry.ticket.number, code: e.code, attempt, retryInMs: wait, queued: queue.entries.length }, 'the ticketing system is unavailable; the ticket writes stay queued and are retried in order');
          queue.parked = true;
          this.wakeAll(queue);
          try {
            await sleep(wait, signal);
          } catch {
            return;
          } finally {
            queue.parked = false;
          }
          attempt++;
          continue;
        }
        await this.options.onDropped(head.entry, e).catch(() => undefined);
      }
      attempt = 1;
      queue.entries.shift();
      if (head.stored) await this.remove(requestId, head.seq);
    }
  }

  private async remove(requestId: string, seq: number): Promise<void> {
    try {
      await this.store.delete(TICKET_OUTBOX, docId(requestId, seq));
    } catch (e) {
      this.options.log.error({ requestId, seq, error: message(e) }, 'a delivered ticket write could not be removed from the store; it will be sent again after a restart');
    }
  }

  private wakeAll(queue: RequestQueue): void {
    for (const wake of queue.wake.splice(0)) wake();
  }

  /** An empty queue with nothing running is dropped (its next number is read from the store again). */
  private forgetIfIdle(requestId: string, queue: RequestQueue): void {
    const tail = queue.tail;
    void tail.then(() => {
      const idle = queue.tail === tail && queue.entries.length === 0 && !queue.pumping && queue.wake.length === 0;
      if (idle && this.queues.get(requestId) === queue) this.queues.delete(requestId);
    });
  }
}

const SEQ_DIGITS = 10;
const idPrefix = (requestId: string): string => `${requestId}/`;
const docId = (requestId: string, seq: number): string => `${idPrefix(requestId)}${String(seq).padStart(SEQ_DIGITS, '0')}`;
const message = (e: unknown): string => (e as Error)?.message ?? String(e);
