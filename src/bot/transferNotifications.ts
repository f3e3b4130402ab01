import type { Attachment, ConversationReference } from 'botbuilder';
import { errorFields, type Logger, withLogContext } from '../log';
import type { TransferProgress } from '../transfer/types';
import { fileNameOf, type RequestRecord } from '../domain/requestRecord';
import type { TransferEnding } from '../workflow/requestEnding';
import { endingScreen, type Screen } from '../workflow/screens';
import type { SessionTimeout } from '../workflow/sessions';
import type { TransferListener } from '../workflow/workflowContext';
import type { ProactiveMessenger } from './proactive';
import type { CardTarget, ProgressReporter } from './progressReporter';
import { cardFor, sessionClosedCard } from './screenCards';
import { escapeMarkdown } from '../domain/markdownText';

/**
 * The bot's side of a running transfer: progress cards updated in place through the reporter
 * (rate-limited per conversation), the final card in the same place, then a proactive message in
 * the same chat — "Your file {name} has been transferred successfully" with the completed card, or
 * a short failure notice. All of it happens after the user's turn has ended.
 */
export class TransferNotifications implements TransferListener {
  /** Progress messages posted for requests whose working card was unknown. */
  private readonly posted = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly reporter: ProgressReporter,
    private readonly messenger: ProactiveMessenger,
    private readonly log: Logger,
  ) {}

  /** A (re)started transfer: its card takes progress again (after a Retry), or a progress card is posted. */
  onStarted(record: RequestRecord): void {
    const conversationId = conversationIdOf(record);
    if (record.cardActivityId && conversationId) {
      this.reporter.reopen({ conversationId, reference: record.conversation, activityId: record.cardActivityId });
    }
    if (record.cardActivityId || this.posted.has(record.id)) return;
    const card = cardFor({ kind: 'progress', requestId: record.id, fileName: fileNameOf(record.source?.key), progress: { bytes: 0, total: record.source?.size ?? 0, percent: 0, rate: 0, attempt: 1 } });
    const sent = this.messenger.send(reference(record), { attachments: [card.attachment] }).catch((e: unknown) => {
      this.log.warn({ requestId: record.id, ...errorFields(e) }, 'could not post the progress card');
      return undefined;
    });
    this.posted.set(record.id, sent);
  }

  onProgress(record: RequestRecord, progress: TransferProgress): void {
    void this.target(record).then((target) => {
      if (!target) return;
      const card = cardFor({ kind: 'progress', requestId: record.id, fileName: fileNameOf(record.source?.key), progress });
      this.reporter.progress(target, card.attachment);
    });
  }

  /** A screen no click asked for (a sign-in that finished in the background): posted in the chat, its message ID told to `posted`. */
  onScreen(record: RequestRecord, screen: Screen, posted?: (activityId: string) => Promise<void>): void {
    this.messenger.send(reference(record), { attachments: [cardFor(screen).attachment] }).then(
      (id) => (id && posted ? posted(id) : undefined),
      (e: unknown) => this.log.error({ requestId: record.id, ...errorFields(e) }, 'could not post the next card'),
    );
  }

  /**
   * The sign-in session ended by itself: its sign-in and browsing cards are replaced in place by
   * the closed sign-in card (no buttons), through the reporter like progress, so never as a new
   * message and never overwritten by a late update. A failed update is logged and changes nothing
   * else: the running transfer does not depend on it.
   */
  onSessionClosed(record: RequestRecord, cause: SessionTimeout, activityIds: readonly string[]): void {
    const conversationId = conversationIdOf(record);
    if (!conversationId) return;
    let card: Attachment;
    try {
      card = sessionClosedCard(record.id, record.signInProvider, cause).attachment;
    } catch (e) {
      this.log.error({ requestId: record.id, ...errorFields(e) }, 'could not render the closed sign-in card');
      return;
    }
    for (const activityId of activityIds) {
      void this.reporter.final({ conversationId, reference: record.conversation, activityId }, card);
    }
    this.log.info({ requestId: record.id, cause, cards: activityIds.length }, 'closing the sign-in cards');
  }

  onFinished(record: RequestRecord, ending: TransferEnding): void {
    void withLogContext({ requestId: record.id }, () => this.finish(record, ending)).catch((e: unknown) => {
      this.log.error({ requestId: record.id, ...errorFields(e) }, 'could not report the end of the transfer');
    });
  }

  private async finish(record: RequestRecord, ending: TransferEnding): Promise<void> {
    const card = cardFor(endingScreen(record, ending)).attachment;
    const target = await this.target(record);
    this.posted.delete(record.id);
    if (target) await this.reporter.final(target, card);
    const name = fileNameOf(record.source?.key);
    if (ending.kind === 'completed') {
      // The working card became the completion card: one short message, not the card again
      // (only when no working card could be updated does the message carry it).
      await this.say(record, completionText(record, name), target ? undefined : card);
    } else if (!ending.cancelled) {
      await this.say(record, `Your file ${name} could not be transferred: ${ending.reason}`);
    }
  }

  private async say(record: RequestRecord, text: string, attachment?: Attachment): Promise<void> {
    try {
      await this.messenger.send(reference(record), { type: 'message', text, ...(attachment ? { attachments: [attachment] } : {}) });
    } catch (e) {
      this.log.error({ requestId: record.id, ...errorFields(e) }, 'could not post the completion message');
    }
  }

  private async target(record: RequestRecord): Promise<CardTarget | undefined> {
    const activityId = record.cardActivityId ?? (await this.posted.get(record.id));
    const conversationId = conversationIdOf(record);
    if (!activityId || !conversationId) return undefined;
    return { conversationId, reference: record.conversation, activityId };
  }
}

/** "Your file … has been transferred successfully", with the request ID and both ticket links (markdown). */
function completionText(record: RequestRecord, name: string): string {
  const t = record.tickets;
  const tickets = t ? ` Tickets: [${t.user.number}](${t.user.url}) and [${t.audit.number}](${t.audit.url}).` : '';
  // The message is Markdown: the name comes from the object key, so it is escaped (markdownText.ts).
  return `Your file ${escapeMarkdown(name)} has been transferred successfully. Request ${record.id}.${tickets}`;
}

function conversationIdOf(record: RequestRecord): string | undefined {
  return (record.conversation as { conversation?: { id?: string } }).conversation?.id;
}

function reference(record: RequestRecord): Partial<ConversationReference> {
  return record.conversation as Partial<ConversationReference>;
}
