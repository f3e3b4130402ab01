import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { destinationFactory } from './adapters/registry';
import { openPortableSource } from './adapters/registry/portableSources';
import { runTransfer } from './transfer/engine';
import { runThreadJob } from './transfer/thread/threadJob';
import type { FromWorker, JobMessage, Port, ToWorker } from './transfer/thread/threadMessages';
import { singleObjectSource } from './workflow/singleObjectSource';

/**
 * The root of a transfer worker thread (src/transfer/thread/transferThreads.ts starts it), which
 * runs each job it is sent over the job's own port: opens the job's destination from its spec,
 * with the secrets the starting thread resolves, and its source from the source's recipe when it
 * has one (narrowed to the one object, as the bot narrows it), else reads through the starting
 * thread; then runs the engine.
 */
if (parentPort) {
  lowerPriority();
  parentPort.on('message', (message: JobMessage) => {
    if (message.kind !== 'job') return;
    void runThreadJob(message.port as unknown as Port<FromWorker, ToWorker>, message.data, async (request, { destination, secrets, remote, recipe }) => {
      const own = recipe && request.object ? openPortableSource(recipe, (r) => remote.lend(r)) : undefined;
      try {
        return await runTransfer({
          ...request,
          source: own ? singleObjectSource(own, request.container, request.object!) : remote,
          destination: destinationFactory.open(destination, { secrets }),
        });
      } finally {
        // Its SDK client's sockets go with the job (S3Source.destroy).
        (own as { destroy?: () => void } | undefined)?.destroy?.();
      }
    });
  });
}

/**
 * On Linux a thread has its own nice value, and 0 names the calling thread: a transfer yields the
 * CPU to the bot's thread (card actions, /healthz) when both want it, and still takes every cycle
 * the bot leaves. Elsewhere this would renice the whole process, so it is left alone there.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, TRANSFER_NICENESS);
  } catch {
    // A container may forbid it; the transfer runs at the bot's priority then.
  }
}

const TRANSFER_NICENESS = 10;
