/** A short message for the audit team's channel. Plain text, no secrets. */
export interface AuditChannelMessage {
  title: string;
  text: string;
  requestId?: string;
  facts?: Record<string, string>;
}

/**
 * Optional notifications to an audit Teams channel (or a webhook). Best effort: `notify` never
 * throws; a failure is the adapter's to log.
 */
export interface Notifier {
  notify(message: AuditChannelMessage): Promise<void>;
}
