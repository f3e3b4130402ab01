import { NotifyError } from '../../domain/errors';
import type { AuditChannelMessage, Notifier, NotifyResult } from '../../ports/notifier';

interface InfoLog {
  info(fields: object, message: string): void;
}

/**
 * The embedded notifier: audit-channel messages go to the structured log (one line each), so a
 * local run shows what the audit channel would get. `teams-workflow` and `teams-channel` post the
 * same messages into Teams.
 */
export class LogNotifier implements Notifier {
  /** The last 50 messages, newest last (for tests and the local ticket page). */
  readonly sent: AuditChannelMessage[] = [];

  constructor(private readonly log: InfoLog) {}

  async notify(message: AuditChannelMessage): Promise<NotifyResult> {
    this.sent.push(message);
    if (this.sent.length > 50) this.sent.shift();
    try {
      const { title, text, requestId, facts, outcome, links } = message;
      this.log.info({ notification: title, requestId, facts, outcome, links }, text);
      return { delivered: true, attempts: 1 };
    } catch (e) {
      // The log stream is this notifier's channel: when it throws, the message did not arrive.
      return { delivered: false, attempts: 1, error: new NotifyError('INTERNAL', `The log could not take the notification (${(e as Error)?.name ?? 'error'}).`, { hint: 'Check where the FileFerry log goes (stdout, the log collector).' }) };
    }
  }
}
