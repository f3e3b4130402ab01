import { FerryError, TransferError, isFerryError } from '../domain/errors';
import type { Destination } from '../ports/destination';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';
import type { OverwritePolicy, TransferEvent, TransferProgress, TransferRequest, TransferResult, TransferTuning } from '../transfer/types';

/** Everything one transfer needs. Held in memory only (it holds the destination's credentials). */
export interface JobSpec {
  source: StorageSource;
  container: string;
  object: ObjectInfo;
  destination: Destination;
  remotePath: string;
  overwrite: OverwritePolicy;
}

export type JobOutcome = { ok: true; result: TransferResult } | { ok: false; error: FerryError };

export interface JobHooks {
  onProgress?: (progress: TransferProgress) => void;
  onEvent?: (event: TransferEvent) => void;
}

/**
 * The transfers running in this process, one per request at most. A job runs in the background
 * (the user's turn has long ended) and always settles with an outcome, never a rejection; `cancel`
 * aborts it and the engine reports CANCELLED.
 */
export class TransferJobs {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<JobOutcome> }>();

  constructor(
    private readonly run: (request: TransferRequest) => Promise<TransferResult>,
    private readonly tuning?: Partial<TransferTuning>,
  ) {}

  get active(): number {
    return this.running.size;
  }

  isRunning(requestId: string): boolean {
    return this.running.has(requestId);
  }

  /** Starts the job; the returned promise settles when it ends. Refuses a second job for one request. */
  start(requestId: string, spec: JobSpec, hooks: JobHooks): Promise<JobOutcome> {
    if (this.running.has(requestId)) throw new Error(`Request ${requestId} already has a running transfer.`);
    const controller = new AbortController();
    const done = this.run({
      source: spec.source,
      container: spec.container,
      key: spec.object.key,
      object: spec.object,
      destination: spec.destination,
      remotePath: spec.remotePath,
      overwrite: spec.overwrite,
      signal: controller.signal,
      onProgress: hooks.onProgress,
      onEvent: hooks.onEvent,
      tuning: this.tuning,
    }).then(
      (result): JobOutcome => ({ ok: true, result }),
      (e: unknown): JobOutcome => ({ ok: false, error: asFerryError(e) }),
    );
    const entry = { controller, done };
    this.running.set(requestId, entry);
    void done.then(() => {
      if (this.running.get(requestId) === entry) this.running.delete(requestId);
    });
    return done;
  }

  /** Aborts the request's job; false when none runs. */
  cancel(requestId: string): boolean {
    const job = this.running.get(requestId);
    if (!job) return false;
    job.controller.abort();
    return true;
  }

  async cancelAll(): Promise<void> {
    const jobs = [...this.running.values()];
    jobs.forEach((j) => j.controller.abort());
    await Promise.all(jobs.map((j) => j.done));
  }
}

function asFerryError(e: unknown): FerryError {
  if (isFerryError(e)) return e;
  return new TransferError('INTERNAL', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
    hint: 'Report this with the request ID; the log has the detail.',
    cause: e,
  });
}
