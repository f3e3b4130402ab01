import { MessageChannel, type Worker } from 'node:worker_threads';
import { fromWire } from '../../domain/errorWire';
import { SecretsError, TransferError } from '../../domain/errors';
import { describeRef } from '../../domain/secretRef';
import type { DestinationSpec } from '../../domain/destinationSpec';
import { isPortable, type SourceRecipe } from '../../ports/portableSource';
import type { SecretStore } from '../../ports/secretStore';
import type { StorageSource } from '../../ports/storageSource';
import type { TransferRequest, TransferResult } from '../types';
import { ThreadHost } from './threadHost';
import type { FromWorker, JobMessage, Port, ThreadJobData, ToWorker } from './threadMessages';
import { coresAllowed } from './coresAllowed';

/** Starts a transfer worker thread (the root knows where the worker's code is). */
export type SpawnTransferWorker = () => Worker;

/** A transfer to run in a worker: the destination as its spec, with the secret store that resolves its references. */
export type ThreadedTransfer = Omit<TransferRequest, 'destination'> & { destination: DestinationSpec; secrets: SecretStore };

interface Member {
  worker: Worker;
  /** Each running job's way to fail when the worker dies under it. */
  jobs: Set<(error: TransferError) => void>;
  /** Ends the worker once it has been idle for IDLE_MS (a burst of transfers leaves no isolates behind). */
  idle?: NodeJS.Timeout;
}

/** How long a worker without a job stays for the next one. */
const IDLE_MS = 60_000;

/**
 * Runs transfers in worker threads, so hashing, encryption and the destination's protocol never
 * hold up this thread (the bot's turns, /healthz). At most `size` workers (by default one per
 * core this process may use, see coresAllowed), each running several transfers: one isolate per
 * core, not per transfer, since every isolate lets its own tens of MiB of dead buffers wait for a
 * collection. A job goes to the worker with the fewest; an idle worker does not keep the process
 * alive.
 *
 * Each transfer talks over its own MessageChannel: a portable source is opened by the worker from
 * its recipe (its credential lent from here), any other is read through this thread; the secrets
 * stay here (ThreadHost); progress and events arrive as the in-process engine would report them;
 * the signal cancels it. A worker that dies fails its transfers as INTERNAL and retryable (their
 * temporary files stay, as after a crash, for a resume) and is replaced by the next job.
 */
export class TransferThreads {
  private readonly members: Member[] = [];
  private closed = false;

  constructor(
    private readonly spawn: SpawnTransferWorker,
    private readonly size = coresAllowed(),
  ) {}

  run(transfer: ThreadedTransfer): Promise<TransferResult> {
    const { source, secrets, signal, onProgress, onEvent, destination, ...rest } = transfer;
    if (signal?.aborted) return Promise.reject(new TransferError('CANCELLED', 'The transfer was cancelled before it started.'));
    if (this.closed) return Promise.reject(new TransferError('CANCELLED', 'FileFerry is shutting down; the transfer was not started.', { retryable: true }));
    const member = this.pick();
    const { port1, port2 } = new MessageChannel();
    const port = port1 as unknown as Port<ToWorker, FromWorker>;
    const host = new ThreadHost(port, source, onlyRefsOf(destination, secrets));
    const data: ThreadJobData = { request: { ...rest, destination }, source: { scheme: source.scheme, parallelReads: source.parallelReads, ...recipeOf(source) } };
    return new Promise<TransferResult>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        host.close();
        port1.close();
        member.jobs.delete(failJob);
        if (member.jobs.size === 0) this.rest(member);
        outcome();
      };
      const failJob = (error: TransferError): void => settle(() => reject(error));
      const onAbort = (): void => port.postMessage({ kind: 'cancel' });
      // A callback that throws fails the transfer, as it would throw into the engine in-process;
      // here it would otherwise throw out of a message handler and take the process with it.
      const report = (call: () => void): void => {
        try {
          call();
        } catch (e) {
          onAbort();
          settle(() => reject(e));
        }
      };
      port1.on('message', (message: FromWorker) => {
        // Messages already queued when the job settled (a late progress report) are dropped.
        if (settled || host.handle(message)) return;
        switch (message.kind) {
          case 'progress':
            return report(() => onProgress?.(message.progress));
          case 'event':
            return report(() => onEvent?.(message.event));
          case 'done':
            return settle(() => resolve(message.result));
          case 'failed':
            return settle(() => reject(fromWire(message.error)));
        }
      });
      member.jobs.add(failJob);
      clearTimeout(member.idle);
      member.worker.ref();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        member.worker.postMessage({ kind: 'job', data, port: port2 } satisfies JobMessage, [port2 as unknown as ArrayBuffer]);
      } catch (e) {
        // A request that cannot be cloned: a programming error, reported as the engine would.
        settle(() => reject(new TransferError('INTERNAL', `The transfer could not be handed to a worker thread: ${(e as Error).message}`, { cause: e })));
      }
    });
  }

  /** Stops every worker (the app is closing; its jobs were cancelled and have answered). */
  async close(): Promise<void> {
    this.closed = true;
    const members = this.members.splice(0);
    members.forEach((m) => clearTimeout(m.idle));
    await Promise.all(members.map((m) => m.worker.terminate()));
  }

  /** The worker with the fewest jobs, or a new one while there are fewer than `size`. */
  private pick(): Member {
    const least = this.members.reduce<Member | undefined>((best, m) => (!best || m.jobs.size < best.jobs.size ? m : best), undefined);
    if (least && (least.jobs.size === 0 || this.members.length >= this.size)) return least;
    const member: Member = { worker: this.spawn(), jobs: new Set() };
    const fail = (what: string, cause?: Error): void => {
      const i = this.members.indexOf(member);
      if (i >= 0) this.members.splice(i, 1);
      for (const failJob of [...member.jobs]) failJob(workerDied(what, cause));
    };
    member.worker.once('error', (e) => fail(`failed: ${e.message}`, e));
    member.worker.once('exit', (code) => fail(`stopped (exit code ${code}) before the transfer ended`));
    member.worker.unref();
    this.members.push(member);
    return member;
  }

  /** A worker without jobs: it no longer keeps the process alive, and goes after IDLE_MS. */
  private rest(member: Member): void {
    member.worker.unref();
    clearTimeout(member.idle);
    member.idle = setTimeout(() => {
      const i = this.members.indexOf(member);
      if (i < 0 || member.jobs.size > 0) return;
      this.members.splice(i, 1);
      void member.worker.terminate();
    }, IDLE_MS);
    member.idle.unref();
  }
}

/**
 * The secret store as the worker may use it: only the references the job's destination names,
 * so a worker (or a fault in one) can resolve nothing else through this thread.
 */
function onlyRefsOf(spec: DestinationSpec, secrets: SecretStore): SecretStore {
  const named = new Set(Object.entries(spec).filter(([k, v]) => k.endsWith('Ref') && typeof v === 'string').map(([, v]) => v as string));
  return {
    resolve: (ref, signal) =>
      named.has(ref) ? secrets.resolve(ref, signal) : Promise.reject(new SecretsError('ACCESS_DENIED', `${describeRef(ref)} is not one of the transfer's destination secrets.`, { hint: 'Report this with the request ID.' })),
  };
}

function recipeOf(source: StorageSource): { recipe?: SourceRecipe } {
  const recipe = isPortable(source) ? source.recipe() : undefined;
  return recipe ? { recipe } : {};
}

function workerDied(what: string, cause?: Error): TransferError {
  return new TransferError('INTERNAL', `The transfer's worker thread ${what}.`, {
    hint: 'Retry the transfer; if it happens again, report it with the request ID (the log has the detail).',
    retryable: true,
    cause,
  });
}

