import { Writable } from 'node:stream';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { createLogger } from '../../src/log';
import type { AuditChannelMessage } from '../../src/ports/notifier';
import { notifierConformance } from './notifierSuite';

describe('LogNotifier', () => {
  /** JSON lines the current notifier's logger wrote. */
  let lines: string[] = [];

  /** A log line back as the message it announces: the notifier logs `notification`, `requestId`, `facts`, `outcome`, `links` and the text as `msg`. */
  function asMessage(line: Record<string, unknown>): AuditChannelMessage {
    return {
      title: line.notification as string,
      text: line.msg as string,
      ...(line.requestId !== undefined ? { requestId: line.requestId as string } : {}),
      ...(line.facts !== undefined ? { facts: line.facts as Record<string, string> } : {}),
      ...(line.outcome !== undefined ? { outcome: line.outcome as AuditChannelMessage['outcome'] } : {}),
      ...(line.links !== undefined ? { links: line.links as AuditChannelMessage['links'] } : {}),
    };
  }

  notifierConformance('structured log', {
    create: async () => {
      const captured: string[] = (lines = []);
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          captured.push(...chunk.toString().split('\n').filter(Boolean));
          cb();
        },
      });
      return new LogNotifier(createLogger({ level: 'info', destination: sink }));
    },
    delivered: async () =>
      lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => 'notification' in l)
        .map(asMessage),
    // The channel of the log notifier is its log stream: one that throws on every write.
    broken: async () =>
      new LogNotifier(
        createLogger({
          level: 'info',
          destination: {
            write() {
              throw new Error('EPIPE: the log collector went away');
            },
          },
        }),
      ),
  });
});
