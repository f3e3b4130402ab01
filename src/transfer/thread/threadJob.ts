import { toWire } from '../../domain/errorWire';
import type { DestinationSpec } from '../../domain/destinationSpec';
import type { SecretStore } from '../../ports/secretStore';
import type { TransferRequest, TransferResult } from '../types';
import { RemoteSource } from './remoteSource';
import type { FromWorker, Port, ThreadJobData, ToWorker } from './threadMessages';

/** Opens the spec's destination with `secrets` and runs the transfer (the worker's root supplies it). */
export type RunWithSpec = (request: Omit<TransferRequest, 'destination'>, destination: DestinationSpec, secrets: SecretStore) => Promise<TransferResult>;

/**
 * Runs the one transfer a worker thread was started for: its source and secrets are the starting
 * thread's (RemoteSource), its progress and events go back as they happen, a `cancel` message
 * aborts it, and it ends with exactly one `done` or `failed`.
 */
export async function runThreadJob(port: Port<FromWorker, ToWorker>, data: ThreadJobData, run: RunWithSpec): Promise<void> {
  const source = new RemoteSource(port, data.source);
  const controller = new AbortController();
  const onMessage = (message: ToWorker): void => {
    if (message.kind === 'cancel') controller.abort();
    else source.handle(message);
  };
  port.on('message', onMessage);
  const { destination, ...rest } = data.request;
  try {
    const result = await run(
      {
        ...rest,
        source,
        signal: controller.signal,
        onProgress: (progress) => port.postMessage({ kind: 'progress', progress }),
        onEvent: (event) => port.postMessage({ kind: 'event', event }),
      },
      destination,
      source.secrets,
    );
    port.postMessage({ kind: 'done', result });
  } catch (e) {
    port.postMessage({ kind: 'failed', error: toWire(e) });
  } finally {
    port.off('message', onMessage);
  }
}
