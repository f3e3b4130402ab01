import type { Activity, Attachment, CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';

/**
 * Sends and updates messages outside the user's turn (progress, completion), through a stored
 * ConversationReference and `CloudAdapter.continueConversationAsync`. The transfer keeps running
 * after the turn that started it has ended, so every later message goes this way.
 *
 * Errors are returned to the caller (the progress reporter decides about 429 and 5xx), never
 * routed to the adapter's onTurnError, which would post an error card into the chat.
 */
export class ProactiveMessenger {
  constructor(
    private readonly adapter: CloudAdapter,
    /** The bot's app ID; empty in local mode. */
    private readonly appId: string,
  ) {}

  /** Posts a new message; resolves with its activity ID. */
  async send(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string | undefined> {
    let id: string | undefined;
    await this.run(reference, async (context) => {
      id = (await context.sendActivity(activity))?.id;
    });
    return id;
  }

  /** Replaces the card in message `activityId`. */
  async update(reference: Partial<ConversationReference>, activityId: string, attachment: Attachment): Promise<void> {
    await this.run(reference, async (context) => {
      await context.updateActivity({ type: 'message', id: activityId, attachments: [attachment] });
    });
  }

  private async run(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    let failure: unknown;
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      try {
        await logic(context);
      } catch (e) {
        failure = e ?? new Error('proactive call failed');
      }
    });
    if (failure !== undefined) throw failure;
  }
}
