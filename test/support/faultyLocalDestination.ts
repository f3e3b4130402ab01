import { DestinationError, cancelled } from '../../src/domain/errors';
import type { Destination, DestinationSession, WriteOptions } from '../../src/ports/destination';
import type { FaultRule } from './faultProxy';

/**
 * The local-folder destination has no network to cut, so its faults are injected at the port:
 * the same rule as the TCP FaultProxy (cut/reset after N bytes → the write fails as a dropped
 * connection would; stall → it stops taking bytes until its signal aborts). Real bytes still land
 * on disk before the fault, so resume is exercised for real.
 */
export function faultyDestination(inner: Destination, rule: FaultRule): Destination {
  let left = rule.times ?? 1;
  return {
    label: `${inner.label} (with faults)`,
    async connect(signal) {
      const armed = left > 0;
      if (armed) left--;
      // A fault after 0 bytes is a connection that dies at once: the connect itself fails.
      if (armed && rule.afterBytes === 0) throw new DestinationError('NETWORK', `Injected ${rule.action} on connect.`);
      const session = await inner.connect(signal);
      if (!armed) return session;
      return withFaultyWrite(session, rule);
    },
  };
}

function withFaultyWrite(session: DestinationSession, rule: FaultRule): DestinationSession {
  const write = async (path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> => {
    let sent = 0;
    async function* limited(): AsyncGenerator<Buffer> {
      for await (const chunk of data) {
        if (sent + chunk.length < rule.afterBytes) {
          sent += chunk.length;
          yield chunk;
          continue;
        }
        const keep = rule.afterBytes - sent;
        if (keep > 0) yield chunk.subarray(0, keep);
        sent = rule.afterBytes;
        if (rule.action === 'stall') {
          await new Promise<void>((resolve) => {
            if (options.signal?.aborted) return resolve();
            options.signal?.addEventListener('abort', () => resolve(), { once: true });
          });
          throw cancelled('The stalled write');
        }
        throw new DestinationError('NETWORK', `Injected ${rule.action} after ${rule.afterBytes} bytes.`);
      }
    }
    await session.write(path, limited(), options);
  };
  return Object.assign(Object.create(session) as DestinationSession, { write, resumeMode: session.resumeMode });
}
