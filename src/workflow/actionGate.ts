import { isFerryError } from '../domain/errors';
import type { DocumentStore } from '../ports/documentStore';
import type { WorkflowLog } from '../ports/workflowLog';

/** The collection the idempotency memo lives in: one document per request and verb. */
export const ACTION_MEMO = 'action-memo';

/** How outcomes are kept: what is stored (plain JSON, nothing secret) and how a stored one is read back. */
export interface MemoCodec<R> {
  toStored(outcome: R): unknown;
  /** The outcome to replay, or undefined when the stored form cannot be replayed any more. */
  fromStored(requestId: string, stored: unknown): R | undefined;
}

export interface ActionGateOptions<R> {
  log: WorkflowLog;
  /** Default: the outcome itself, as JSON. */
  codec?: MemoCodec<R>;
  /** A memo nobody forgets (an abandoned request) is gone this long after it was written. Default 24 h. */
  ttlMs?: number;
  now?: () => Date;
}

interface MemoBody {
  requestId: string;
  verb: string;
  revision: number;
  outcome: unknown;
}

/**
 * Idempotency and ordering for card actions.
 *
 * - `serial` runs one action per request at a time, so a double click cannot interleave two
 *   transitions of the same request. It is per process, in memory: ordering, not state.
 * - `recall`/`remember` key an action's outcome on requestId + verb + step (the record's revision
 *   the action produced). A repeat of the same verb while the request is still at that step (a
 *   double click, or Teams re-sending an invoke after 15 s, also after a restart) gets the
 *   remembered outcome and causes nothing again: one ticket pair, one sign-in, one transfer. The
 *   memo lives in the DocumentStore, so a restart in between does not forget it.
 * - `forget` drops a request's memo once it has reached a final state (or lets it expire a little
 *   later, so the answer to a final action's repeat is still there), so the memo holds only
 *   requests still in progress.
 *
 * The memo is a convenience on top of the step checks, never a reason to fail an action: a store
 * that cannot be read or written is logged and the action goes on as if nothing was remembered.
 */
export class ActionGate<R> {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly codec: MemoCodec<R>;
  private readonly now: () => Date;

  constructor(
    private readonly documents: DocumentStore,
    private readonly options: ActionGateOptions<R>,
  ) {
    this.codec = options.codec ?? jsonCodec<R>();
    this.now = options.now ?? (() => new Date());
  }

  serial<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(requestId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(requestId, tail);
    void tail.then(() => {
      if (this.queues.get(requestId) === tail) this.queues.delete(requestId);
    });
    return run;
  }

  async recall(requestId: string, verb: string, revision: number): Promise<R | undefined> {
    try {
      const doc = await this.documents.get<MemoBody>(ACTION_MEMO, memoId(requestId, verb));
      if (!doc || doc.body.revision !== revision) return undefined;
      return this.codec.fromStored(requestId, doc.body.outcome);
    } catch (e) {
      this.options.log.warn({ requestId, verb, error: message(e) }, 'the idempotency memo could not be read; the action is checked as a new one');
      return undefined;
    }
  }

  async remember(requestId: string, verb: string, revision: number, outcome: R): Promise<void> {
    const body: MemoBody = { requestId, verb, revision, outcome: this.codec.toStored(outcome) };
    try {
      await this.documents.put(ACTION_MEMO, memoId(requestId, verb), body, { expiresAt: new Date(this.now().getTime() + (this.options.ttlMs ?? DAY_MS)) });
    } catch (e) {
      this.options.log.warn({ requestId, verb, error: message(e) }, 'the idempotency memo could not be written; a repeat of this action is checked as a new one');
    }
  }

  /** True while a memo is kept for the request. */
  async remembers(requestId: string): Promise<boolean> {
    const found = await this.documents.list(ACTION_MEMO, { prefix: memoPrefix(requestId), limit: 1 });
    return found.length > 0;
  }

  /**
   * Drops the request's memo, now or `afterMs` from now (so a double click on the action that
   * ended the request is still answered with its outcome, not refused). Never throws.
   */
  async forget(requestId: string, afterMs = 0): Promise<void> {
    try {
      const docs = await this.documents.list<MemoBody>(ACTION_MEMO, { prefix: memoPrefix(requestId), limit: 1000 });
      const expiresAt = new Date(this.now().getTime() + afterMs);
      for (const doc of docs) {
        if (afterMs <= 0) await this.documents.delete(ACTION_MEMO, doc.id);
        else if (!doc.expiresAt || Date.parse(doc.expiresAt) > expiresAt.getTime()) await this.shorten(doc.id, doc.version, doc.body, expiresAt);
      }
    } catch (e) {
      this.options.log.warn({ requestId, error: message(e) }, 'the idempotency memo could not be dropped; it expires on its own');
    }
  }

  private async shorten(id: string, version: number, body: MemoBody, expiresAt: Date): Promise<void> {
    try {
      await this.documents.put(ACTION_MEMO, id, body, { ifVersion: version, expiresAt });
    } catch (e) {
      // Rewritten meanwhile by a newer outcome: that one keeps its own expiry.
      if (!(isFerryError(e) && e.code === 'CONFLICT')) throw e;
    }
  }
}

const DAY_MS = 24 * 60 * 60_000;
const memoPrefix = (requestId: string): string => `${requestId}/`;
const memoId = (requestId: string, verb: string): string => `${memoPrefix(requestId)}${verb}`;
const message = (e: unknown): string => (e as Error)?.message ?? String(e);

/** Outcomes as JSON, read back as JSON: every store gives back what a JSON round trip gives. */
function jsonCodec<R>(): MemoCodec<R> {
  return {
    toStored: (outcome) => JSON.parse(JSON.stringify(outcome)) as unknown,
    fromStored: (_requestId, stored) => stored as R,
  };
}
