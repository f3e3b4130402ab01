import {
  TeamsActivityHandler,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
} from 'botbuilder';
import { errorFields, setLogRequestId, type Logger } from '../log';
import { readCardAction } from '../ui/cardAction';
import type { RequestWorkflow } from '../workflow/requestWorkflow';
import { INACTIVE_MESSAGE, isWorkflowError } from '../domain/workflowError';
import { actorOf } from './actor';
import type { CardActions } from './cardActions';
import { CHANNEL_TEXT_REPLY, isChannelConversation } from './channelScope';
import { cardFor, helpCard, inactiveCard, welcomeCard, type RenderedCard } from './screenCards';
import { parseTextCommand } from './textCommands';
import { failureCard } from './turnError';

const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/**
 * The Teams bot: a welcome card when it is installed, the text commands, and card clicks handed
 * to CardActions. Turns activities into workflow calls and renders cards; nothing else.
 */
export class FileFerryBot extends TeamsActivityHandler {
  constructor(
    private readonly workflow: RequestWorkflow,
    private readonly actions: CardActions,
    private readonly localMode: boolean,
    private readonly log: Logger,
  ) {
    super();
    this.onMembersAdded(async (context, next) => {
      // In a team, people joining are not starting a chat with FileFerry (see channelInstallEvents.ts).
      for (const member of isChannelConversation(context.activity) ? [] : (context.activity.membersAdded ?? [])) {
        if (member.id === context.activity.recipient?.id) continue;
        await context.sendActivity({ attachments: [welcomeCard(member.name || 'there').attachment] });
      }
      await next();
    });
    this.onMessage(async (context, next) => {
      const action = readCardAction(context.activity);
      if (action) {
        const handled = await this.actions.handle(context, action);
        // A submit cannot be answered in place; a refusal or an unknown clicked message gets a reply.
        if (!handled.replaces || !context.activity.replyToId) await this.reply(context, handled.card);
      } else if (context.activity.value === undefined || context.activity.text) {
        await this.onText(context);
      } else {
        await this.reply(context, inactiveCard(INACTIVE_MESSAGE));
      }
      await next();
    });
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, _value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const action = readCardAction(context.activity);
    const card = action ? (await this.actions.handle(context, action)).card : inactiveCard(INACTIVE_MESSAGE);
    return { statusCode: 200, type: CARD_CONTENT_TYPE, value: card.attachment.content as Record<string, unknown> };
  }

  private async onText(context: TurnContext): Promise<void> {
    if (isChannelConversation(context.activity)) {
      await context.sendActivity(CHANNEL_TEXT_REPLY);
      return;
    }
    const actor = actorOf(context.activity, this.localMode);
    if (!actor) {
      await context.sendActivity('I cannot tell who you are in this conversation, so I cannot start a transfer here.');
      return;
    }
    const command = parseTextCommand(context.activity.text);
    try {
      switch (command.command) {
        case 'transfer': {
          const reference = TurnContext.getConversationReference(context.activity) as Record<string, unknown>;
          const screen = await this.workflow.startRequest(actor, reference);
          if (screen.kind === 'requestForm') setLogRequestId(screen.requestId);
          const sent = await context.sendActivity({ attachments: [cardFor(screen).attachment] });
          if (sent?.id && screen.kind === 'requestForm') await this.workflow.attachCard(actor, screen.requestId, sent.id);
          return;
        }
        case 'status':
          if (command.requestId) setLogRequestId(command.requestId);
          return await this.reply(context, cardFor(await this.workflow.status(actor, command.requestId)));
        case 'history':
          return await this.reply(context, cardFor(await this.workflow.history(actor)));
        case 'cancel': {
          if (!command.requestId) {
            await context.sendActivity('Say which request to cancel, for example: cancel FF-7K3M9Q2X. Type "status" to see your open requests.');
            return;
          }
          setLogRequestId(command.requestId);
          const outcome = await this.workflow.cancel(actor, command.requestId);
          return await this.reply(context, cardFor(outcome.screen));
        }
        case 'help':
          if (command.unknown) await context.sendActivity(`I did not understand "${command.unknown}". Here is what I can do:`);
          return await this.reply(context, helpCard());
      }
    } catch (e) {
      if (isWorkflowError(e)) return this.reply(context, inactiveCard(INACTIVE_MESSAGE));
      this.log.warn({ command: command.command, ...errorFields(e) }, 'text command failed');
      return this.reply(context, failureCard(e, this.log));
    }
  }

  private async reply(context: TurnContext, card: RenderedCard): Promise<void> {
    await context.sendActivity({ attachments: [card.attachment] });
  }
}
