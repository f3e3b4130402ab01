import { TurnContext, type CloudAdapter, type ConversationParameters, type ConversationReference } from 'botbuilder';
import { errorFields, type Logger } from '../log';
import type { ApprovalDelivery, RequestRecord } from '../domain/requestRecord';
import type { ApproverRef } from '../workflow/approvalPolicy';
import { closedScreen } from '../workflow/approvalStep';
import type { RequestWorkflow } from '../workflow/requestWorkflow';
import type { Screen } from '../workflow/screens';
import type { TransferListener } from '../workflow/workflowContext';
import type { ProactiveMessenger } from './proactive';
import type { ProgressReporter } from './progressReporter';
import { cardFor } from './screenCards';

/** The Bot Connector's audience for tokens the bot sends with (botframework-connector's ToChannelFromBotOAuthScope). */
const CONNECTOR_AUDIENCE = 'https://api.botframework.com';

export interface ApprovalNotificationsDeps {
  adapter: CloudAdapter;
  /** The bot's app ID; empty in local mode. */
  appId: string;
  workflow: RequestWorkflow;
  messenger: ProactiveMessenger;
  reporter: ProgressReporter;
  log: Logger;
}

/**
 * The bot's side of an approval. When a protected request starts waiting, each approver listed
 * by Entra object ID gets the approval card in a 1:1 chat the bot opens (Bot Connector
 * createConversation with the member's object ID and the tenant: the only way Teams lets a bot
 * write first), and each listed channel gets one post; where the cards went is stored on the
 * request, so they are updated in place when the approval ends ("Approved by you", "Rejected by
 * …", "Expired", "Withdrawn"), also after a restart. The requester's card shows a rejection or an
 * expiry, and a short message says who decided. The requester never gets an approval card.
 */
export class ApprovalNotifications implements TransferListener {
  constructor(private readonly deps: ApprovalNotificationsDeps) {}

  onApprovalRequested(record: RequestRecord, targets: readonly ApproverRef[]): void {
    void this.deliver(record, targets).catch((e: unknown) => this.deps.log.error({ requestId: record.id, ...errorFields(e) }, 'could not deliver the approval cards'));
  }

  onApprovalClosed(record: RequestRecord, requesterScreen?: Screen): void {
    void this.close(record, requesterScreen).catch((e: unknown) => this.deps.log.error({ requestId: record.id, ...errorFields(e) }, 'could not show the end of the approval'));
  }

  private async deliver(record: RequestRecord, targets: readonly ApproverRef[]): Promise<void> {
    const { log } = this.deps;
    const reference = record.conversation as Partial<ConversationReference>;
    const serviceUrl = reference.serviceUrl;
    const tenantId = record.owner.tenantId ?? reference.conversation?.tenantId;
    const card = cardFor({ kind: 'approvalRequest', record }).attachment;
    const deliveries: ApprovalDelivery[] = [];
    for (const target of targets) {
      // UPNs authorise but cannot be written to first; the requester never approves, so is never asked.
      if (target.kind === 'upn' || (target.kind === 'user' && target.objectId === record.owner.userId.toLowerCase())) continue;
      if (!serviceUrl) break;
      try {
        deliveries.push(target.kind === 'user' ? await this.openChat(target.objectId, serviceUrl, tenantId, card) : await this.postInChannel(target.channelId, serviceUrl, tenantId, card));
      } catch (e) {
        log.warn({ requestId: record.id, approver: target.kind === 'user' ? target.objectId : target.channelId, ...errorFields(e) }, 'could not send the approval card to an approver');
      }
    }
    if (targets.length > 0 && deliveries.length === 0) {
      log.error({ requestId: record.id }, 'no approver could be reached with the approval card');
      await this.say(record, `I could not reach any approver of ${record.approval?.group ?? 'this group'} in Teams. Request ${record.id} keeps waiting until it expires; ask an approver to contact you, or cancel it.`);
    }
    const now = await this.deps.workflow.approvalDelivered(record.id, deliveries);
    // The approval ended while the cards were on their way: show its end on them at once.
    if (now?.approval?.decision) await this.updateApprovers({ ...now, approval: { ...now.approval, deliveries } });
  }

  private async close(record: RequestRecord, requesterScreen?: Screen): Promise<void> {
    await this.updateApprovers(record);
    const decision = record.approval?.decision;
    if (requesterScreen) {
      const conversationId = (record.conversation as { conversation?: { id?: string } }).conversation?.id;
      if (record.cardActivityId && conversationId) {
        await this.deps.reporter.final({ conversationId, reference: record.conversation, activityId: record.cardActivityId }, cardFor(requesterScreen).attachment);
      }
    }
    if (!decision) return;
    const comment = decision.comment ? `: "${decision.comment}"` : '.';
    if (decision.outcome === 'approved') await this.say(record, `${decision.by?.name ?? 'An approver'} approved request ${record.id}${comment} The transfer has started.`);
    else if (decision.outcome === 'rejected') await this.say(record, `${decision.by?.name ?? 'An approver'} rejected request ${record.id}${comment} Nothing was transferred.`);
    else if (decision.outcome === 'expired') await this.say(record, `Request ${record.id} expired: no approver decided in time. Nothing was transferred.`);
  }

  /** Every approval card sent for the request shows how it ended, each as its reader sees it. */
  private async updateApprovers(record: RequestRecord): Promise<void> {
    const decision = record.approval?.decision;
    if (!decision) return;
    for (const d of record.approval?.deliveries ?? []) {
      const card = cardFor(closedScreen(record, decision, { userId: d.to, name: '' })).attachment;
      try {
        await this.deps.messenger.update(d.conversation as Partial<ConversationReference>, d.activityId, card);
      } catch (e) {
        this.deps.log.warn({ requestId: record.id, approver: d.to, ...errorFields(e) }, 'could not update an approval card');
      }
    }
  }

  /** A 1:1 chat with the member (created, or the existing one Teams returns), and the card in it. */
  private async openChat(objectId: string, serviceUrl: string, tenantId: string | undefined, card: ReturnType<typeof cardFor>['attachment']): Promise<ApprovalDelivery> {
    const { adapter, appId } = this.deps;
    const parameters = {
      isGroup: false,
      bot: { id: appId || 'fileferry', name: 'FileFerry' },
      members: [{ id: objectId, name: '' }],
      ...(tenantId ? { tenantId, channelData: { tenant: { id: tenantId } } } : {}),
    } as ConversationParameters;
    let delivery: ApprovalDelivery | undefined;
    let failure: unknown;
    await adapter.createConversationAsync(appId, 'msteams', serviceUrl, CONNECTOR_AUDIENCE, parameters, async (context) => {
      try {
        const sent = await context.sendActivity({ attachments: [card] });
        const conversation = TurnContext.getConversationReference(context.activity) as Record<string, unknown>;
        if (sent?.id) delivery = { to: objectId, conversation, activityId: sent.id };
      } catch (e) {
        failure = e ?? new Error('sending the approval card failed');
      }
    });
    if (failure !== undefined) throw failure;
    if (!delivery) throw new Error('the Bot Connector gave the approval card no activity ID');
    return delivery;
  }

  /** A new post in the channel (a message to the channel's conversation starts a thread). */
  private async postInChannel(channelId: string, serviceUrl: string, tenantId: string | undefined, card: ReturnType<typeof cardFor>['attachment']): Promise<ApprovalDelivery> {
    const conversation: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl,
      conversation: { id: channelId, isGroup: true, conversationType: 'channel', name: '', ...(tenantId ? { tenantId } : {}) },
      bot: { id: this.deps.appId || 'fileferry', name: 'FileFerry' },
    };
    const activityId = await this.deps.messenger.send(conversation, { attachments: [card] });
    if (!activityId) throw new Error('the Bot Connector gave the channel post no activity ID');
    return { to: channelId, conversation: conversation as Record<string, unknown>, activityId };
  }

  private async say(record: RequestRecord, text: string): Promise<void> {
    try {
      await this.deps.messenger.send(record.conversation as Partial<ConversationReference>, { type: 'message', text });
    } catch (e) {
      this.deps.log.warn({ requestId: record.id, ...errorFields(e) }, 'could not tell the requester about the approval');
    }
  }
}
