import type { Worker } from 'node:worker_threads';
import { fromWire } from '../../domain/errorWire';
import { TransferError } from '../../domain/errors';
import type { DestinationSpec } from '../../domain/destinationSpec';
import { isPortable, type SourceRecipe } from '../../ports/portableSource';
import type { SecretStore } from '../../ports/secretStore';
import type { StorageSource } from '../../ports/storageSource';
import type { TransferRequest, TransferResult } from '../types';
import { ThreadHost } from './threadHost';
import type { FromWorker, ThreadJobData, ToWorker } from './threadMessages';

/** Starts a worker thread for one transfer (the root knows where the worker's code is). */
export type SpawnTransferWorker = (data: ThreadJobData) => Worker;

/** A transfer to run in a worker: the destination as its spec, with the secret store that resolves its references. */
export type ThreadedTransfer = Omit<TransferRequest, 'destination'> & { destination: DestinationSpec; secrets: SecretStore };

/**
 * Runs one transfer in a worker thread of its own, so hashing, encryption and the destination's
 * protocol never hold up this thread (the bot's turns, /healthz). A portable source is opened by
 * the worker from its recipe (its credential lent from here); any other is read through this
 * thread. The secrets stay here (ThreadHost); progress and events arrive as the in-process engine would report them; the
 * signal cancels it. A worker that dies without an answer fails the transfer as INTERNAL (its
 * temporary file stays, as after a crash, for a resume).
 */
export function runInThread(spawn: SpawnTransferWorker, transfer: ThreadedTransfer): Promise<TransferResult> {
  const { source, secrets, signal, onProgress, onEvent, destination, ...rest } = transfer;
  if (signal?.aborted) return Promise.reject(new TransferError('CANCELLED', 'The transfer was cancelled before it started.'));
  const worker = spawn({ request: { ...rest, destination }, source: { scheme: source.scheme, parallelReads: source.parallelReads, ...recipeOf(source) } });
  const port = worker as unknown as import('./threadMessages').Port<ToWorker, FromWorker>;
  const host = new ThreadHost(port, source, secrets);
  return new Promise<TransferResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      host.close();
      outcome();
      // The engine has answered: what the worker still holds (an extra connection saying
      // goodbye) is not waited for.
      void worker.terminate();
    };
    const onAbort = (): void => worker.postMessage({ kind: 'cancel' } satisfies ToWorker);
    // A callback that throws fails the transfer, as it would throw into the engine in-process;
    // here it would otherwise throw out of a message handler and take the process with it.
    const report = (call: () => void): void => {
      try {
        call();
      } catch (e) {
        settle(() => reject(e));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FromWorker) => {
      if (host.handle(message)) return;
      switch (message.kind) {
        case 'progress':
          return report(() => onProgress?.(message.progress));
        case 'event':
          return report(() => onEvent?.(message.event));
        case 'done':
          settle(() => resolve(message.result));
          return;
        case 'failed':
          settle(() => reject(fromWire(message.error)));
          return;
      }
    });
    worker.once('error', (e) => settle(() => reject(died(`failed: ${e.message}`, e))));
    worker.once('exit', (code) => settle(() => reject(died(`stopped (exit code ${code}) before the transfer ended`))));
  });
}

function recipeOf(source: StorageSource): { recipe?: SourceRecipe } {
  const recipe = isPortable(source) ? source.recipe() : undefined;
  return recipe ? { recipe } : {};
}

function died(what: string, cause?: Error): TransferError {
  return new TransferError('INTERNAL', `The transfer's worker thread ${what}.`, {
    hint: 'Retry the transfer; if it happens again, report it with the request ID (the log has the detail).',
    retryable: true,
    cause,
  });
}
