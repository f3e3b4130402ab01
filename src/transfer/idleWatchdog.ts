import { TransferError } from '../domain/errors';

/**
 * Aborts an attempt that makes no progress for `idleMs`: a stalled server or a dead NAT mapping
 * would otherwise hang forever (the complaint behind ssh2-sftp-client #382 and basic-ftp #209).
 * Its `signal` also follows the caller's signal, so one signal reaches every stream of an attempt.
 */
export class IdleWatchdog {
  private readonly controller = new AbortController();
  private last = performance.now();
  private readonly timer: NodeJS.Timeout;
  private readonly onParentAbort: () => void;
  timedOut = false;

  constructor(private readonly idleMs: number, private readonly parent?: AbortSignal) {
    this.onParentAbort = () => this.controller.abort(parent?.reason);
    if (parent?.aborted) this.onParentAbort();
    parent?.addEventListener('abort', this.onParentAbort, { once: true });
    this.timer = setInterval(() => {
      if (performance.now() - this.last < idleMs) return;
      this.timedOut = true;
      this.controller.abort(this.timeoutError());
      this.stop();
    }, Math.max(10, Math.min(1000, idleMs / 4)));
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    this.last = performance.now();
  }

  timeoutError(): TransferError {
    return new TransferError('TIMEOUT', `No data moved for ${Math.round(this.idleMs / 1000)} s.`, {
      hint: 'The connection stalled; the transfer retries and resumes where it stopped.',
    });
  }

  /** Ends the attempt: stops the clock and aborts whatever still listens (leftover source reads). */
  stop(): void {
    clearInterval(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new TransferError('CANCELLED', 'The attempt ended.'));
  }
}
