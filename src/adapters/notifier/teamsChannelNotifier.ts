import { NotifyError } from '../../domain/errors';
import type { AuditChannelMessage, ChannelPost, Notifier, NotifyResult } from '../../ports/notifier';
import { deliver } from './noticeDelivery';
import { outcomeCard } from './outcomeCard';

export interface TeamsChannelNotifierOptions {
  /** The bot's way into a channel (src/bot/channelPoster.ts); late-bound, since the bot is built after the adapters. */
  post: ChannelPost;
  /** FILEFERRY_AUDIT_CHANNEL_ID; unset: the channel the app was last installed in. */
  channelId?: string;
  /** Deadline of each post. Default 15 s. */
  timeoutMs?: number;
  /** Tries in all. Default 3 (the Bot Connector client already retries a 429 or 503 itself). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * FILEFERRY_NOTIFIER=teams-channel: the same outcome card as the Workflows notifier, posted by
 * the bot itself as a new post in the audit channel where the app is installed. Needs no secret
 * beyond the bot's own registration.
 */
export class TeamsChannelNotifier implements Notifier {
  constructor(private readonly options: TeamsChannelNotifierOptions) {}

  notify(message: AuditChannelMessage): Promise<NotifyResult> {
    const card = outcomeCard(message);
    const { channelId } = this.options;
    return deliver(
      async (signal) => {
        try {
          await this.options.post(card, { ...(channelId ? { channelId } : {}), signal });
          return undefined;
        } catch (e) {
          if (e instanceof NotifyError) return { error: e };
          throw e;
        }
      },
      {
        what: 'the Teams audit channel',
        attempts: this.options.attempts ?? 3,
        timeoutMs: this.options.timeoutMs ?? 15_000,
        baseDelayMs: this.options.baseDelayMs ?? 1_000,
        maxDelayMs: this.options.maxDelayMs ?? 30_000,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      },
    );
  }
}
