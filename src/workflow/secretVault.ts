/**
 * Per-request things that must never be stored: the password typed on the destination card, the
 * destination form waiting on a host-key confirmation (with that password), and what a Retry needs
 * (the opened destination and the single-object source). Memory only, wiped when the request ends
 * and in any case `ttlMs` after the last write, so an abandoned request leaves nothing behind.
 */
export class SecretVault<T extends object> {
  private readonly entries = new Map<string, { value: T; timer: NodeJS.Timeout }>();

  constructor(private readonly ttlMs: number) {}

  get(requestId: string): T | undefined {
    return this.entries.get(requestId)?.value;
  }

  /** Merges `patch` into the request's entry and restarts its time-to-live. */
  patch(requestId: string, patch: Partial<T>): T {
    const old = this.entries.get(requestId);
    if (old) clearTimeout(old.timer);
    const value = { ...(old?.value ?? {}), ...patch } as T;
    const timer = setTimeout(() => this.wipe(requestId), this.ttlMs);
    timer.unref();
    this.entries.set(requestId, { value, timer });
    return value;
  }

  wipe(requestId: string): void {
    const old = this.entries.get(requestId);
    if (!old) return;
    clearTimeout(old.timer);
    this.entries.delete(requestId);
  }

  wipeAll(): void {
    for (const id of [...this.entries.keys()]) this.wipe(id);
  }
}
