import type { NotifyError } from '../domain/errors';

/** What happened, for the card's label and colour. Absent: a neutral notice. */
export type NoticeOutcome = 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'expired' | 'approved' | 'rejected';

/** A button that opens a page (a ticket). Only http(s) URLs are shown. */
export interface NoticeLink {
  title: string;
  url: string;
}

/** A short message for the audit team's channel. Plain text, no secrets. */
export interface AuditChannelMessage {
  title: string;
  text: string;
  requestId?: string;
  facts?: Record<string, string>;
  outcome?: NoticeOutcome;
  /** The request's tickets, in order (requester's, then the audit team's). */
  links?: NoticeLink[];
}

/**
 * How one notification went, after the adapter's own retries. A failure is data, not an
 * exception: whoever asked decides how to record it (the workflow logs and audits it), and a
 * caller that ignores the result can never be broken by a channel outage.
 */
export type NotifyResult =
  | { delivered: true; attempts: number }
  /** `error`: NotifyError with a stable code (THROTTLED, SERVER_ERROR, NOT_FOUND, ACCESS_DENIED, INVALID_CONFIG …); its message never holds a secret such as the webhook URL. */
  | { delivered: false; attempts: number; error: NotifyError };

/**
 * Optional notifications to an audit Teams channel (or a webhook). `notify` never throws and
 * never hangs: every attempt has a deadline, 429 and 5xx are retried a bounded number of times,
 * then it resolves with `delivered: false` and the reason.
 */
export interface Notifier {
  notify(message: AuditChannelMessage): Promise<NotifyResult>;
}

/**
 * Posts an Adaptive Card as a new post in a Teams channel, as the bot (the bot layer supplies it
 * to the `teams-channel` notifier, which may not import bot code). `channelId` (`19:…@thread.tacv2`)
 * picks the channel; without it, the channel the app was last installed in. Throws NotifyError:
 * NOT_FOUND (the app is installed in no team, or not in that channel's team), ACCESS_DENIED (the
 * app was removed or may not post there), THROTTLED / SERVER_ERROR / NETWORK (retryable).
 */
export type ChannelPost = (card: Record<string, unknown>, options: { channelId?: string; signal: AbortSignal }) => Promise<void>;
