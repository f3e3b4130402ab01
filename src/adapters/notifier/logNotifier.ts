import type { AuditChannelMessage, Notifier } from '../../ports/notifier';

interface InfoLog {
  info(fields: object, message: string): void;
}

/**
 * The embedded notifier: audit-channel messages go to the structured log (one line each), so a
 * local run shows what the audit channel would get. The Teams channel and webhook notifiers come
 * with the push-mode issue.
 */
export class LogNotifier implements Notifier {
  /** The last 50 messages, newest last (for tests and the local ticket page). */
  readonly sent: AuditChannelMessage[] = [];

  constructor(private readonly log: InfoLog) {}

  async notify(message: AuditChannelMessage): Promise<void> {
    this.sent.push(message);
    if (this.sent.length > 50) this.sent.shift();
    try {
      this.log.info({ notification: message.title, requestId: message.requestId, facts: message.facts }, message.text);
    } catch {
      // Best effort by contract: a notification that cannot be logged is dropped, never thrown.
    }
  }
}
