import { FerryError, TransferError, isFerryError } from '../domain/errors';
import { stripingConnections } from '../domain/destinationSpec';
import type { SecretRef } from '../domain/secretRef';
import { unpinObject, type TransferJobSpec } from '../domain/transferJobSpec';
import type { DestinationFactory } from '../ports/destinationFactory';
import type { SecretStore } from '../ports/secretStore';
import type { StorageSource } from '../ports/storageSource';
import type { TransferThreads } from '../transfer/thread/transferThreads';
import type { TransferEvent, TransferProgress, TransferRequest, TransferResult, TransferTuning } from '../transfer/types';
import { withHeldSecrets } from './heldSecrets';

/**
 * What this process holds beside a job's spec to run it, in memory only: the reader narrowed to
 * the one object (it carries the requester's short-lived sign-in), and secrets typed on a card.
 */
export interface JobHoldings {
  source: StorageSource;
  secrets?: ReadonlyMap<SecretRef, string>;
  /** Continue into the temporary file an earlier process left (resume after a restart). */
  resumeTemporaryPath?: string;
}

export type JobOutcome = { ok: true; result: TransferResult } | { ok: false; error: FerryError };

export interface JobHooks {
  onProgress?: (progress: TransferProgress) => void;
  onEvent?: (event: TransferEvent) => void;
}

export interface TransferJobsDeps {
  run: (request: TransferRequest) => Promise<TransferResult>;
  destinations: DestinationFactory;
  secrets: SecretStore;
  tuning?: Partial<TransferTuning>;
  /**
   * Runs the jobs in worker threads (the engine, the destination and the hashing off this
   * thread), the secrets (and a source that is not portable) still served from here. Without it
   * jobs run in this thread through `run`.
   */
  threads?: TransferThreads;
}

/**
 * The job runner: runs a TransferJobSpec, one per request at most, in a worker thread when
 * `threads` is given (the destination is opened there from the spec) or else in this thread;
 * either way its secrets are resolved here at each connect. A job runs in the background (the
 * user's turn has long ended) and always settles with an outcome, never a rejection; `cancel` aborts it and the engine reports
 * CANCELLED.
 */
export class TransferJobs {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<JobOutcome> }>();

  constructor(private readonly deps: TransferJobsDeps) {}

  get active(): number {
    return this.running.size;
  }

  isRunning(requestId: string): boolean {
    return this.running.has(requestId);
  }

  /** Starts the job; the returned promise settles when it ends. Refuses a second job for one request. */
  start(spec: TransferJobSpec, holdings: JobHoldings, hooks: JobHooks): Promise<JobOutcome> {
    const { requestId } = spec;
    if (this.running.has(requestId)) throw new Error(`Request ${requestId} already has a running transfer.`);
    const controller = new AbortController();
    const done = this.run(spec, holdings, hooks, controller.signal).then(
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

  private async run(spec: TransferJobSpec, holdings: JobHoldings, hooks: JobHooks, signal: AbortSignal): Promise<TransferResult> {
    const secrets = withHeldSecrets(this.deps.secrets, holdings.secrets);
    const object = unpinObject(spec.source.object);
    const request = {
      source: holdings.source,
      container: spec.source.container,
      key: object.key,
      object,
      remotePath: spec.remotePath,
      overwrite: spec.overwrite,
      connections: stripingConnections(spec.destination),
      ...(holdings.resumeTemporaryPath ? { resumeTemporaryPath: holdings.resumeTemporaryPath } : {}),
      signal,
      onProgress: hooks.onProgress,
      onEvent: hooks.onEvent,
      tuning: this.deps.tuning,
    } satisfies Omit<TransferRequest, 'destination'>;
    if (this.deps.threads) return this.deps.threads.run({ ...request, destination: spec.destination, secrets });
    return this.deps.run({ ...request, destination: this.deps.destinations.open(spec.destination, { secrets }) });
  }
}

function asFerryError(e: unknown): FerryError {
  if (isFerryError(e)) return e;
  return new TransferError('INTERNAL', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
    hint: 'Report this with the request ID; the log has the detail.',
    cause: e,
  });
}
