/**
 * Idempotency and ordering for card actions.
 *
 * - `serial` runs one action per request at a time, so a double click cannot interleave two
 *   transitions of the same request.
 * - `recall`/`remember` key an action's outcome on requestId + verb + step (the record's revision
 *   the action produced). A repeat of the same verb while the request is still at that step (a
 *   double click, or Teams re-sending an invoke after 15 s) gets the remembered outcome and
 *   causes nothing again: one ticket pair, one sign-in, one transfer.
 * - `forget` drops a request's memo once it has reached a final state, so the memo holds only
 *   requests still in progress (plus, for a short grace, the answer to a final action's repeat).
 */
export class ActionGate<R> {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly memo = new Map<string, Map<string, { revision: number; outcome: R }>>();

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

  recall(requestId: string, verb: string, revision: number): R | undefined {
    const hit = this.memo.get(requestId)?.get(verb);
    return hit && hit.revision === revision ? hit.outcome : undefined;
  }

  remember(requestId: string, verb: string, revision: number, outcome: R): void {
    let byVerb = this.memo.get(requestId);
    if (!byVerb) this.memo.set(requestId, (byVerb = new Map()));
    byVerb.set(verb, { revision, outcome });
  }

  /** True while a memo is kept for the request. */
  remembers(requestId: string): boolean {
    return this.memo.has(requestId);
  }

  /**
   * Drops the request's memo, now or `afterMs` from now (so a double click on the action that
   * ended the request is still answered with its outcome, not refused).
   */
  forget(requestId: string, afterMs = 0): void {
    if (afterMs <= 0) {
      this.memo.delete(requestId);
      return;
    }
    const byVerb = this.memo.get(requestId);
    if (!byVerb) return;
    setTimeout(() => {
      if (this.memo.get(requestId) === byVerb) this.memo.delete(requestId);
    }, afterMs).unref();
  }
}
