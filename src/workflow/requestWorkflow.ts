import { noticesSettled } from './channelNotices';
import { OPEN_STATES, fileNameOf, type Actor, type RequestRecord, type RequestState } from '../domain/requestRecord';
import { moveTo } from '../domain/requestStates';
import { isFerryError } from '../domain/errors';
import { WorkflowError } from '../domain/workflowError';
import { runTransfer } from '../transfer/engine';
import { ActionGate } from './actionGate';
import { ActionGuard, type GuardedAction } from './actionGuard';
import { ApprovalPoller } from './approvalPoller';
import type { Approver } from './approvalPolicy';
import { ApprovalStep } from './approvalStep';
import { outcomeMemoCodec } from './outcomeMemo';
import { AuditTrail } from './auditTrail';
import { BrowsingStep, scopeOf } from './browsingStep';
import { DestinationChoices } from './destinationChoices';
import { DestinationStep } from './destinationStep';
import { expireStale } from './expiry';
import { PRIORITIES } from './regions';
import { endRequest } from './requestEnding';
import { newRequestId } from './requestId';
import { validateRequestForm } from './requestValidation';
import { endingScreen, type ActionOutcome, type Screen } from './screens';
import { SecretVault } from './secretVault';
import { SignInSessions, type SessionTimeout } from './sessions';
import { choosesRole, type RoleQuestion } from '../ports/roleChoice';
import { newTicketPair, notes } from './ticketWording';
import { TicketNotes } from './ticketNotes';
import { TransferJobs } from './transferJobs';
import { TransferStep } from './transferStep';
import { SYSTEM, type TransferListener, type Volatile, type WorkflowContext, type WorkflowDeps } from './workflowContext';

const BROWSING: RequestState[] = ['signed-in'];
/** Screens of the sign-in session: posted as new messages, they are kept on the record to be closed when it ends. */
const SESSION_SCREENS: ReadonlySet<Screen['kind']> = new Set<Screen['kind']>(['signIn', 'rolePicker', 'buckets', 'files']);
/** A request posts one sign-in card and a picker or two; the cap keeps a misbehaving host from growing the record. */
const MAX_SESSION_CARDS = 8;
const act = (verb: string, states: readonly RequestState[], idempotent: boolean): GuardedAction => ({ verb, states, idempotent });

/**
 * The request state machine, one method per card action, each behind the ActionGuard: the
 * request exists, belongs to the same user and tenant, is at the step the action belongs to, and
 * names only containers, folders, keys and destinations this session listed or the policy allows.
 * A refusal is a WorkflowError (the bot shows "this card is no longer active"), is audited, and
 * never lists or transfers anything. Moves follow the state table (domain/requestStates.ts) and
 * every end goes through `endRequest`. No SDK, adapter or bot code is imported here.
 */
export class RequestWorkflow {
  private readonly ctx: WorkflowContext;
  private readonly gate: ActionGate<ActionOutcome>;
  private readonly guard: ActionGuard;
  private readonly destinationStep: DestinationStep;
  private readonly browsingStep: BrowsingStep;
  private readonly transferStep: TransferStep;
  private readonly approvalStep: ApprovalStep;
  private readonly approvalPoller?: ApprovalPoller;

  constructor(private readonly deps: WorkflowDeps) {
    const log = deps.log;
    const retryMinutes = deps.policy.retryWindowMinutes ?? 30;
    const audit = new AuditTrail(deps.audit, log);
    this.ctx = {
      deps,
      log,
      choices: new DestinationChoices(deps.policy.savedDestinations),
      sessions: new SignInSessions(deps.identity, log, deps.policy.browseIdleSeconds ?? 300, async (requestId, reason, cause) => {
        await audit.record({ type: 'signin.ended', requestId, actor: SYSTEM.userId, details: { reason } });
        if (cause === 'auto-logout' || cause === 'browse-window') await this.closeSessionCards(requestId, cause);
      }),
      vault: new SecretVault<Volatile>(Math.max(retryMinutes, deps.policy.requestTtlMinutes ?? 60) * 60_000),
      jobs: new TransferJobs({ run: deps.runTransfer ?? runTransfer, destinations: deps.destinations, secrets: deps.secrets, tuning: deps.tuning, threads: deps.runTransfer ? undefined : deps.transferThreads }),
      audit,
      notes: new TicketNotes(deps.ticketing, deps.documents, audit, log),
      listeners: [],
      now: deps.now ?? (() => new Date()),
      save: async (record) => {
        record.revision += 1;
        record.updatedAt = this.ctx.now().toISOString();
        await deps.repository.put(record);
      },
      serial: (id, fn) => this.gate.serial(id, fn),
      forget: (id) => this.gate.forget(id),
    };
    // The memo is durable; the device code a sign-in screen shows stays in this process's vault.
    this.gate = new ActionGate<ActionOutcome>(deps.documents, { log, codec: outcomeMemoCodec((id) => this.ctx.vault.get(id)?.challenge), now: this.ctx.now });
    this.guard = new ActionGuard(this.gate, deps.repository, audit, log);
    this.destinationStep = new DestinationStep(this.ctx);
    this.browsingStep = new BrowsingStep(this.ctx, this.destinationStep);
    this.transferStep = new TransferStep(this.ctx);
    this.approvalStep = new ApprovalStep(this.ctx, this.transferStep);
    // A sign-in that waits for an account/role pick posts the picker in the requester's chat.
    if (choosesRole(deps.identity)) deps.identity.onRoleQuestion((requestId, question) => this.showRoleQuestion(requestId, question));
    // ServiceNow-driven approvals are read on a timer; the waiting requests are found in the store, so a restart picks them up.
    if (deps.policy.approval?.via === 'servicenow') this.approvalPoller = new ApprovalPoller(this.ctx, this.approvalStep, deps.policy.approval.pollSeconds * 1000);
  }

  addListener(listener: TransferListener): void {
    this.ctx.listeners.push(listener);
  }

  get activeTransfers(): number {
    return this.ctx.jobs.active;
  }

  /** `transfer` / `new` / the welcome card's button: a draft request and its form. */
  async startRequest(actor: Actor, conversation: Record<string, unknown>): Promise<Screen> {
    const now = this.ctx.now().toISOString();
    const record: RequestRecord = {
      id: (this.deps.newId ?? newRequestId)(),
      state: 'draft',
      revision: 0,
      owner: { ...actor },
      conversation,
      createdAt: now,
      updatedAt: now,
    };
    await this.ctx.save(record);
    await this.ctx.audit.record({ type: 'request.created', requestId: record.id, actor: actor.userId, details: { name: actor.name } });
    return this.requestForm(record);
  }

  /** Remembers which message holds the request's working card. */
  async attachCard(actor: Actor, requestId: string, activityId: string): Promise<void> {
    await this.gate.serial(requestId, async () => {
      const record = await this.guard.load(actor, requestId, 'attachCard');
      record.cardActivityId = activityId;
      await this.deps.repository.put(record);
    });
  }

  /**
   * The bot posted `screen` as the new message `activityId`. A sign-in or browsing card is kept on
   * the stored record (`sessionCardIds`), so the end of the session can close it in place, even
   * after a restart; any other screen is ignored.
   */
  async cardPosted(screen: Screen, activityId: string): Promise<void> {
    if (!SESSION_SCREENS.has(screen.kind) || !('requestId' in screen)) return;
    const { requestId } = screen;
    await this.gate.serial(requestId, async () => {
      const record = await this.deps.repository.get(requestId);
      const kept = record?.sessionCardIds ?? [];
      if (!record || kept.includes(activityId) || kept.length >= MAX_SESSION_CARDS) return;
      record.sessionCardIds = [...kept, activityId];
      await this.deps.repository.put(record);
    });
  }

  submitRequest(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('request.submit', ['draft'], true), async (record) => {
      const checked = validateRequestForm(inputs, this.deps.policy.assignmentGroups);
      if (!checked.ok) return { screen: this.requestForm(record, checked.values, checked.errors) };
      const form = checked.values;
      const unapprovable = this.approvalStep.submitRefusal(form);
      if (unapprovable) return { screen: this.requestForm(record, form, { assignmentGroup: unapprovable }) };
      record.form = form;
      if (actor.upn) record.owner.upn = actor.upn;
      try {
        record.tickets = await this.deps.ticketing.createPair(newTicketPair(record, actor, form));
      } catch (e) {
        // Nothing happened yet: the form comes back as typed, to be sent again (tickets are looked up before they are created).
        if (!isFerryError(e)) throw e;
        this.ctx.log.warn({ requestId: record.id, code: e.code, error: e.message }, 'the tickets could not be created');
        await this.ctx.audit.record({ type: 'tickets.failed', requestId: record.id, actor: actor.userId, details: { code: e.code } });
        const note = `The tickets could not be created, so nothing has happened yet: ${e.message}${e.retryable ? ' Send the form again in a moment.' : ` ${e.hint}`}`;
        return { screen: { ...this.requestForm(record, form), note } };
      }
      moveTo(record, 'ticketed');
      // The sign-in lives until the request ends: ending it (cancel, expiry, shutdown) aborts this signal.
      const signInSignal = this.ctx.sessions.watch(record.id);
      const challenge = await this.deps.identity.beginSignIn(scopeOf(record), signInSignal);
      record.signInProvider = challenge.provider;
      this.ctx.vault.patch(record.id, { challenge });
      await this.ctx.save(record);
      await this.ctx.audit.record({ type: 'signin.started', requestId: record.id, actor: actor.userId, details: { provider: challenge.provider, kind: challenge.kind } });
      this.watchSignIn(record, signInSignal);
      await this.ctx.audit.record({
        type: 'request.submitted',
        requestId: record.id,
        actor: actor.userId,
        details: {
          environment: form.environment, cloud: form.cloud, region: form.region, container: form.container, key: form.key,
          assignmentGroup: form.assignmentGroup, priority: form.priority,
          userTicket: record.tickets.user.number, auditTicket: record.tickets.audit.number,
        },
      });
      return {
        screen: { kind: 'tickets', requestId: record.id, tickets: record.tickets },
        followUps: [{ kind: 'signIn', requestId: record.id, challenge }],
      };
    });
  }

  continueSignIn(actor: Actor, requestId: string): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('signin.continue', ['ticketed'], true), (record) => this.browsingStep.continueSignIn(record, actor));
  }

  pickRole(actor: Actor, requestId: string, step: unknown, value: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('signin.pick', ['ticketed'], false), (record) => this.browsingStep.pickRole(record, actor, step, value));
  }

  pickBucket(actor: Actor, requestId: string, container: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('bucket.pick', BROWSING, false), (record) => this.browsingStep.pickBucket(record, container));
  }

  openFolder(actor: Actor, requestId: string, prefix: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('files.open', BROWSING, false), (record) => this.browsingStep.openFolder(record, prefix));
  }

  turnPage(actor: Actor, requestId: string, direction: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('files.page', BROWSING, false), (record) => this.browsingStep.turnPage(record, direction));
  }

  filterFiles(actor: Actor, requestId: string, filter: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('files.filter', BROWSING, false), (record) => this.browsingStep.filterFiles(record, filter));
  }

  pickFile(actor: Actor, requestId: string, key: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('file.pick', BROWSING, true), (record) => this.browsingStep.pickFile(record, actor, key));
  }

  submitDestination(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('dest.submit', ['source-chosen'], true), (record) => this.destinationStep.submit(record, actor, inputs));
  }

  testDestination(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('dest.test', ['source-chosen'], false), (record) => this.destinationStep.test(record, actor, inputs));
  }

  trustHostKey(actor: Actor, requestId: string, fingerprint: unknown): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('dest.trustHostKey', ['source-chosen'], true), (record) => this.destinationStep.trustHostKey(record, actor, fingerprint));
  }

  confirmTransfer(actor: Actor, requestId: string, cardActivityId?: string): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('transfer.confirm', ['destination-set'], true), async (record) => ({
      screen: this.approvalStep.isProtected(record)
        ? await this.approvalStep.request(record, actor, cardActivityId)
        : await this.transferStep.confirm(record, actor, cardActivityId),
    }));
  }

  /**
   * An approver's Approve or Reject (with a comment). Not the owner's action, so not behind the
   * owner check: ApprovalStep checks the approver list, the requester and the step instead.
   */
  decideApproval(approver: Approver, requestId: string, outcome: 'approved' | 'rejected', comment: unknown): Promise<ActionOutcome> {
    return this.approvalStep.decide(approver, requestId, outcome, comment);
  }

  /** The bot sent the approval cards: where they are, to update them in place later (see ApprovalStep.delivered). */
  approvalDelivered(requestId: string, deliveries: Parameters<ApprovalStep['delivered']>[1]): Promise<RequestRecord | undefined> {
    return this.approvalStep.delivered(requestId, deliveries);
  }

  /** One round of the ServiceNow approval poll (the timer's work; tests call it directly). */
  pollApprovals(): Promise<number> {
    return this.approvalPoller?.pollOnce() ?? Promise.resolve(0);
  }

  retry(actor: Actor, requestId: string, cardActivityId?: string): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('transfer.retry', ['failed'], true), async (record) => ({
      screen: await this.transferStep.retry(record, actor, cardActivityId),
    }));
  }

  /**
   * Cancels a request at any open step, or a running transfer. A running transfer is asked to
   * stop and the answer ("cancelling") comes at once, well inside Teams' invoke time limit; the
   * transfer's own end posts the cancelled card on its card once the engine has stopped and
   * cleaned up. Repeating it answers "cancelling" again. A request left `transferring` with no job
   * in this process (after a restart) is ended as INTERRUPTED, so it never stays stuck.
   */
  cancel(actor: Actor, requestId: string): Promise<ActionOutcome> {
    return this.guard.act(actor, requestId, act('transfer.cancel', [...OPEN_STATES, 'transferring'], true), async (record) => {
      if (record.state === 'awaiting-approval') return { screen: await this.approvalStep.cancel(record, actor) };
      if (record.state === 'transferring') {
        const how = this.transferStep.cancelRunning(record.id);
        if (how === 'cancelling') return { screen: { kind: 'cancelling', requestId: record.id, fileName: fileNameOf(record.source?.key) } };
        if (how === 'finishing') throw new WorkflowError('CARD_INACTIVE', `The transfer of ${record.id} is finishing.`);
        return { screen: endingScreen(record, await this.transferStep.interrupt(record, actor.userId, 'cancel')) };
      }
      await endRequest(this.ctx, record, {
        state: 'cancelled',
        audit: { type: 'request.cancelled', actor: actor.userId },
        tickets: { how: 'fail', note: notes.requestCancelled(record.id) },
        reason: 'request cancelled',
      });
      return {
        screen: {
          kind: 'failed',
          requestId: record.id,
          fileName: fileNameOf(record.source?.key),
          code: 'CANCELLED',
          reason: 'The request was cancelled; nothing was transferred.',
          hint: 'Type "transfer" to start a new request when you are ready.',
          canRetry: false,
        },
      };
    });
  }

  /** `status [id]`: one request, or the user's open ones (else the latest). */
  async status(actor: Actor, requestId?: string): Promise<Screen> {
    if (requestId) {
      const record = await this.guard.load(actor, requestId, 'request.status');
      return { kind: 'requestList', title: `Request ${record.id}`, requests: [record] };
    }
    const mine = await this.deps.repository.listByUser(actor.userId, 10);
    const open = mine.filter((r) => [...OPEN_STATES, 'transferring', 'failed'].includes(r.state));
    return { kind: 'requestList', title: open.length ? 'Your open requests' : 'Your latest request', requests: open.length ? open : mine.slice(0, 1) };
  }

  /** `history`: the user's last 10 requests. */
  async history(actor: Actor): Promise<Screen> {
    const mine = await this.deps.repository.listByUser(actor.userId, 10);
    return { kind: 'requestList', title: 'Your last requests', requests: mine };
  }

  /**
   * Device-code providers poll in the background: when the person approves (or refuses, or the
   * code expires) the request moves on by itself and the listeners get the next screen, so the
   * user never has to press "I have signed in". The button stays as a fallback.
   */
  private watchSignIn(record: RequestRecord, signal: AbortSignal): void {
    const { identity } = this.deps;
    if (!identity.awaitSignIn) return;
    const id = record.id;
    void identity
      .awaitSignIn(scopeOf(record), signal)
      .then(
        (session) => ({ session }),
        (error: unknown) => ({ error }),
      )
      .then((outcome) =>
        this.gate.serial(id, async () => {
          this.ctx.sessions.unwatch(id, signal);
          if (signal.aborted) return;
          const current = await this.deps.repository.get(id);
          const screen = current && (await this.browsingStep.signedInInBackground(current, outcome));
          if (!current || !screen) return;
          for (const l of this.ctx.listeners) {
            try {
              l.onScreen?.({ ...current }, screen, (activityId) => this.keepPosted(screen, activityId));
            } catch {
              // Listeners log their own errors.
            }
          }
        }),
      )
      .catch((e: unknown) => this.ctx.log.error({ requestId: id, error: (e as Error)?.message ?? String(e) }, 'the background sign-in could not be handled'));
  }

  /** The provider's first account/role question, asked in the background: the picker goes to the requester's chat. */
  private showRoleQuestion(requestId: string, question: RoleQuestion): void {
    void this.gate
      .serial(requestId, async () => {
        const record = await this.deps.repository.get(requestId);
        if (!record || record.state !== 'ticketed' || record.signedInAt) return;
        const screen = this.browsingStep.rolePicker(record, question);
        for (const l of this.ctx.listeners) {
          try {
            l.onScreen?.({ ...record }, screen, (activityId) => this.keepPosted(screen, activityId));
          } catch {
            // Listeners log their own errors.
          }
        }
      })
      .catch((e: unknown) => this.ctx.log.error({ requestId, error: (e as Error)?.message ?? String(e) }, 'the account/role picker could not be shown'));
  }

  /** `cardPosted` for a screen posted in the background: a failure is logged (the card then stays as it is when the session ends). */
  private keepPosted(screen: Screen, activityId: string): Promise<void> {
    return this.cardPosted(screen, activityId).catch((e: unknown) =>
      this.ctx.log.warn({ activityId, error: (e as Error)?.message ?? String(e) }, 'could not keep the message of a sign-in card; it will not be closed when the session ends'),
    );
  }

  /**
   * The session ended by itself (auto-logout, the browse window): the listeners close its sign-in
   * and browsing cards in place. The working card is left alone: it may have grown out of the
   * sign-in card (the local sign-in is replaced by the pickers, then the confirm and progress cards).
   */
  private async closeSessionCards(requestId: string, cause: SessionTimeout): Promise<void> {
    let record: RequestRecord | undefined;
    try {
      record = await this.deps.repository.get(requestId);
    } catch (e) {
      this.ctx.log.warn({ requestId, error: (e as Error)?.message ?? String(e) }, 'could not read the request to close its sign-in cards');
      return;
    }
    const working = record?.cardActivityId;
    const cards = (record?.sessionCardIds ?? []).filter((id) => id !== working);
    if (!record || cards.length === 0) return;
    for (const l of this.ctx.listeners) {
      try {
        l.onSessionClosed?.({ ...record }, cause, cards);
      } catch {
        // Listeners log their own errors.
      }
    }
  }

  /**
   * At start-up: every request still `transferring` was cut by the end of the process that ran
   * it. Each is ended as INTERRUPTED (resumable where possible, see TransferStep.interrupt) and
   * its owner told. Returns how many were found. Ticket writes an earlier process left queued
   * (a ServiceNow outage, a restart) are sent first, in order per request.
   */
  async recoverInterrupted(): Promise<number> {
    await this.ctx.notes.resume().catch((e: unknown) =>
      this.ctx.log.error({ error: (e as Error)?.message ?? String(e) }, 'the queued ticket writes could not be read; each request\'s are sent with its next note'),
    );
    const cut = await this.deps.repository.listStale(['transferring'], new Date(this.ctx.now().getTime() + 1000));
    let found = 0;
    for (const old of cut) {
      await this.gate.serial(old.id, async () => {
        const record = await this.deps.repository.get(old.id);
        if (!record || record.state !== 'transferring' || this.transferStep.isActive(record.id)) return;
        found++;
        const ending = await this.transferStep.interrupt(record, SYSTEM.userId, 'restart');
        for (const l of this.ctx.listeners) {
          try {
            l.onFinished?.({ ...record }, ending);
          } catch {
            // Listeners log their own errors.
          }
        }
      });
    }
    return found;
  }

  /** The periodic expiry sweep (see expiry.ts). */
  expireStale(): Promise<number> {
    return expireStale(this.ctx, this.transferStep, this.approvalStep);
  }

  /** Stops running transfers and wipes every session and secret (process shutdown). */
  async shutdown(): Promise<void> {
    await this.approvalPoller?.stop();
    await this.ctx.jobs.cancelAll();
    // Each stopped transfer's end is recorded (store, audit, tickets) before anything closes.
    await this.transferStep.settled();
    // Channel notices still in flight (and their notify.failed records) before the stores close.
    await noticesSettled(this.ctx);
    await this.ctx.sessions.endAll('shutdown');
    // Ticket writes still queued (an outage) stay in the store for the next start.
    await this.ctx.notes.stop();
    this.ctx.vault.wipeAll();
  }

  private requestForm(record: RequestRecord, values = record.form, errors = {}): Screen {
    return {
      kind: 'requestForm',
      requestId: record.id,
      values: values ?? { environment: '', cloud: 'AWS', region: '', container: '', key: '', assignmentGroup: '', priority: PRIORITIES[2]!.value, justification: '' },
      errors,
      assignmentGroups: this.deps.policy.assignmentGroups,
    };
  }
}
