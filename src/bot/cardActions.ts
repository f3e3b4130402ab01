import { TurnContext, type ConversationReference } from 'botbuilder';
import { errorFields, setLogRequestId, type Logger } from '../log';
import type { CardAction } from '../ui/cardAction';
import type { Verb } from '../ui/cardModels';
import type { RequestWorkflow } from '../workflow/requestWorkflow';
import type { Actor } from '../domain/requestRecord';
import type { ActionOutcome, Screen } from '../workflow/screens';
import { INACTIVE_MESSAGE, isWorkflowError } from '../domain/workflowError';
import { actorOf } from './actor';
import { withUpn } from './memberLookup';
import type { ProactiveMessenger } from './proactive';
import type { ProgressReporter } from './progressReporter';
import { cardFor, inactiveCard, type RenderedCard } from './screenCards';
import { failureCard } from './turnError';

export interface CardActionsDeps {
  workflow: RequestWorkflow;
  reporter: ProgressReporter;
  messenger: ProactiveMessenger;
  localMode: boolean;
  log: Logger;
}

/** What handling a click produced: the card for the invoke response, and whether it replaces the clicked card. */
export interface HandledAction {
  card: RenderedCard;
  /** False for refusals and errors: the clicked card is left alone and the card goes out as a reply. */
  replaces: boolean;
}

type Route = (
  w: RequestWorkflow,
  actor: Actor,
  id: string,
  data: Record<string, unknown>,
  ctx: { replyToId?: string; conversation: Record<string, unknown>; conversationId?: string },
) => Promise<ActionOutcome>;

/** Verbs whose actor is checked by UPN too (Teams' member lookup, never the card): the form, and approvers. */
const NEEDS_UPN: ReadonlySet<Verb> = new Set<Verb>(['request.submit', 'approval.approve', 'approval.reject']);

const one = async (screen: Promise<Screen>): Promise<ActionOutcome> => ({ screen: await screen });

/** Each verb to its one workflow method (routing by verb, never by card text). */
const ROUTES: Record<Verb, Route> = {
  'request.new': (w, a, _id, _d, c) => one(w.startRequest(a, c.conversation)),
  'request.submit': (w, a, id, d) => w.submitRequest(a, id, d),
  'signin.continue': (w, a, id) => w.continueSignIn(a, id),
  'signin.pick': (w, a, id, d) => w.pickRole(a, id, d.step, d.value),
  'bucket.pick': (w, a, id, d) => w.pickBucket(a, id, d.container),
  'files.open': (w, a, id, d) => w.openFolder(a, id, d.prefix),
  'files.page': (w, a, id, d) => w.turnPage(a, id, d.direction),
  'files.filter': (w, a, id, d) => w.filterFiles(a, id, d.filter ?? ''),
  // Not `key`: the Agents Playground's renderer treats a data field named key as its own and drops the click.
  'file.pick': (w, a, id, d) => w.pickFile(a, id, d.objectKey),
  'dest.submit': (w, a, id, d) => w.submitDestination(a, id, d),
  'dest.test': (w, a, id, d) => w.testDestination(a, id, d),
  'dest.trustHostKey': (w, a, id, d) => w.trustHostKey(a, id, d.fingerprint),
  'transfer.confirm': (w, a, id, _d, c) => w.confirmTransfer(a, id, c.replyToId),
  'transfer.cancel': (w, a, id) => w.cancel(a, id),
  'transfer.retry': (w, a, id, _d, c) => w.retry(a, id, c.replyToId),
  'request.status': (w, a, id) => one(w.status(a, id)),
  // The approver is who Teams says clicked, in the conversation Teams says (a listed channel), never what the card says.
  'approval.approve': (w, a, id, d, c) => w.decideApproval({ actor: a, conversationId: c.conversationId }, id, 'approved', d.comment),
  'approval.reject': (w, a, id, d, c) => w.decideApproval({ actor: a, conversationId: c.conversationId }, id, 'rejected', d.comment),
};

/**
 * Routes card clicks (adaptiveCard/action invokes and Action.Submit messages) by verb to the
 * workflow and answers fast: the next card goes back in the invoke response, the clicked message
 * is also replaced through the progress reporter (so its old buttons go inert in every host, in
 * order with later progress updates), and follow-up cards are posted in the background. A refused
 * action gets "this card is no longer active" and changes nothing.
 */
export class CardActions {
  constructor(private readonly deps: CardActionsDeps) {}

  async handle(context: TurnContext, action: CardAction): Promise<HandledAction> {
    const { workflow, log } = this.deps;
    const activity = context.activity;
    const known = actorOf(activity, this.deps.localMode);
    if (!known) return { card: inactiveCard(INACTIVE_MESSAGE), replaces: false };
    // The UPN is looked up once per request, when the sign-in it is checked against begins.
    const actor = NEEDS_UPN.has(action.verb) ? await withUpn(context, known, log) : known;
    const requestId = typeof action.data.requestId === 'string' ? action.data.requestId : '';
    if (requestId) setLogRequestId(requestId);
    const conversation = TurnContext.getConversationReference(activity) as Record<string, unknown>;
    const replyToId = activity.replyToId || undefined;
    let outcome: ActionOutcome;
    try {
      outcome = await ROUTES[action.verb](workflow, actor, requestId, action.data, { replyToId, conversation, conversationId: activity.conversation?.id });
    } catch (e) {
      if (isWorkflowError(e)) return { card: inactiveCard(INACTIVE_MESSAGE), replaces: false };
      return { card: failureCard(e, log), replaces: false };
    }
    const card = cardFor(outcome.screen);
    const conversationId = activity.conversation?.id;
    // An invoke's response already replaces the clicked card (Universal Actions); updating it
    // again a moment later would re-render it under the user's next click and lose that click.
    // A message submit gets no such response, so its card is replaced through the reporter.
    if (action.via !== 'invoke' && replyToId && conversationId) {
      this.deps.reporter.progress({ conversationId, reference: conversation, activityId: replyToId }, card.attachment);
    }
    if (action.verb === 'request.new' && outcome.screen.kind === 'requestForm' && replyToId) {
      await workflow.attachCard(actor, outcome.screen.requestId, replyToId);
    }
    if (outcome.followUps?.length && !outcome.replayed) void this.postFollowUps(conversation, outcome.followUps);
    log.info({ verb: action.verb, via: action.via, next: card.name }, 'card action handled');
    return { card, replaces: true };
  }

  /**
   * Posts follow-up cards in order, after the turn (the invoke is answered first), and tells the
   * workflow where each went (it keeps the sign-in card's message, to close it when the session ends).
   */
  private async postFollowUps(reference: Record<string, unknown>, screens: Screen[]): Promise<void> {
    for (const screen of screens) {
      let id: string | undefined;
      try {
        id = await this.deps.messenger.send(reference as Partial<ConversationReference>, { attachments: [cardFor(screen).attachment] });
      } catch (e) {
        this.deps.log.error({ ...errorFields(e) }, 'could not post a follow-up card');
        continue;
      }
      if (!id) continue;
      await this.deps.workflow.cardPosted(screen, id).catch((e: unknown) =>
        this.deps.log.warn({ activityId: id, ...errorFields(e) }, 'could not keep the message of a follow-up card; it will not be closed when the session ends'),
      );
    }
  }
}
