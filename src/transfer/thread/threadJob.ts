import { toWire } from '../../domain/errorWire';
import type { DestinationSpec } from '../../domain/destinationSpec';
import type { SourceRecipe } from '../../ports/portableSource';
import type { SecretStore } from '../../ports/secretStore';
import type { TransferRequest, TransferResult } from '../types';
import { RemoteSource } from './remoteSource';
import type { FromWorker, Port, ThreadJobData, ToWorker } from './threadMessages';

/** What the worker's root opens a transfer's ends from. */
export interface ThreadParts {
  destination: DestinationSpec;
  /** Resolves the destination's secrets in the starting thread. */
  secrets: SecretStore;
  /** The source as the starting thread serves it (reads, and the credential a recipe lends). */
  remote: RemoteSource;
  /** The source's recipe, when the worker can open it itself. */
  recipe?: SourceRecipe;
}

/** Opens the transfer's source and destination from `parts` and runs it (the worker's root supplies it). */
export type RunWithSpec = (request: Omit<TransferRequest, 'destination' | 'source'>, parts: ThreadParts) => Promise<TransferResult>;

/**
 * Runs one transfer a worker thread was sent, over the job's own port: its secrets are the
 * starting thread's (RemoteSource), and its source too unless the root opens it from its recipe;
 * its progress and events go back as they happen, a `cancel` message (or the port closing) aborts
 * it, and it ends with exactly one `done` or `failed`.
 */
export async function runThreadJob(port: Port<FromWorker, ToWorker>, data: ThreadJobData, run: RunWithSpec): Promise<void> {
  const source = new RemoteSource(port, data.source);
  const controller = new AbortController();
  const onMessage = (message: ToWorker): void => {
    if (message.kind === 'cancel') controller.abort();
    else source.handle(message);
  };
  port.on('message', onMessage);
  port.once?.('close', () => {
    controller.abort();
    source.abandon();
  });
  const { destination, ...rest } = data.request;
  try {
    const result = await run(
      {
        ...rest,
        signal: controller.signal,
        onProgress: (progress) => port.postMessage({ kind: 'progress', progress }),
        onEvent: (event) => port.postMessage({ kind: 'event', event }),
      },
      { destination, secrets: source.secrets, remote: source, ...(data.source.recipe ? { recipe: data.source.recipe } : {}) },
    );
    port.postMessage({ kind: 'done', result });
  } catch (e) {
    port.postMessage({ kind: 'failed', error: toWire(e) });
  } finally {
    port.off('message', onMessage);
  }
}
