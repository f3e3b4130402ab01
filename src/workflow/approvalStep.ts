import { fileNameOf, type Actor, type ApprovalDelivery, type ApprovalRecord, type RequestFormValues, type RequestRecord } from '../domain/requestRecord';
import { moveTo } from '../domain/requestStates';
import { unpinObject } from '../domain/transferJobSpec';
import { WorkflowError, type WorkflowErrorCode } from '../domain/workflowError';
import type { AuditChannelMessage } from '../ports/notifier';
import { postNotice } from './channelNotices';
import { canTrackApprovals, type TicketApprovalState } from '../ports/ticketing';
import { cardString } from './actionGuard';
import { approverLabels, isListedApprover, isRequester, needsApproval, type Approver, type ApprovalPolicy } from './approvalPolicy';
import { approvalNotes, approvalWindow } from './approvalWording';
import { confirmScreen } from './destinationStep';
import { needsTypedSecret } from './heldSecrets';
import { endRequest } from './requestEnding';
import type { ActionOutcome, Screen } from './screens';
import { singleObjectSource } from './singleObjectSource';
import { notes } from './ticketWording';
import type { JobHoldings } from './transferJobs';
import type { TransferStep } from './transferStep';
import { SYSTEM, type WorkflowContext } from './workflowContext';

type Decision = NonNullable<ApprovalRecord['decision']>;
const COMMENT_MAX = 1000;

/**
 * Approval before a protected environment's file moves. Confirm on such a request prepares the
 * job exactly as a plain confirm does (audited, built from the live session, sign-in ended after
 * auto-logout), then parks it in `awaiting-approval` with the approval on the record, so a pending
 * approval outlives a restart. An approver's click is checked here against server-side state only:
 * the configured approvers of the request's group (by Entra object ID, by the UPN Teams reports,
 * or by a click inside a listed channel), never the requester, and only while the request waits.
 * Every refusal is audited and reads as "this card is no longer active". Approved: the transfer
 * starts as confirm starts it. Rejected, expired or withdrawn: the request ends through `endRequest`
 * (both tickets, audit, notifier), then the listeners update the cards.
 */
export class ApprovalStep {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly transfers: TransferStep,
  ) {}

  private get policy(): ApprovalPolicy | undefined {
    return this.ctx.deps.policy.approval;
  }

  /** Whether this request must wait for an approver before its transfer. */
  isProtected(record: RequestRecord): boolean {
    return needsApproval(this.policy, record.form?.environment);
  }

  /**
   * At submit: why the form cannot go on (a protected environment whose group nobody may approve),
   * as the assignment group's field message; undefined when it can. Refused here, before any ticket
   * exists, so such a request never waits for nobody.
   */
  submitRefusal(form: RequestFormValues): string | undefined {
    const policy = this.policy;
    if (!needsApproval(policy, form.environment) || policy.via === 'servicenow') return undefined;
    if (policy.approvers[form.assignmentGroup]?.length) return undefined;
    const approved = Object.keys(policy.approvers);
    return `${form.environment} requests need an approval, and no approver is configured for ${form.assignmentGroup}. ` +
      (approved.length ? `Choose a group that has approvers (${approved.join(', ')}), or ask` : 'Ask') +
      ` an administrator to add ${form.assignmentGroup} to FILEFERRY_APPROVERS.`;
  }

  /** Confirm on a protected request: the job is prepared and parked, and the approvers are asked. */
  async request(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<Screen> {
    const { ctx } = this;
    const policy = this.policy!;
    const group = record.form!.assignmentGroup;
    const refs = policy.via === 'teams' ? policy.approvers[group] ?? [] : [];
    if (policy.via === 'teams' && refs.length === 0) {
      return confirmScreen(record, `This request needs an approval, but no approver is configured for ${group} any more. Ask an administrator to add ${group} to FILEFERRY_APPROVERS; nothing was sent.`);
    }
    if (policy.via === 'servicenow') {
      const asked = await this.askServiceNow(record);
      if (asked) return confirmScreen(record, asked);
    }
    const prepared = await this.transfers.prepare(record, actor, cardActivityId);
    if ('screen' in prepared) return prepared.screen;
    moveTo(record, 'awaiting-approval');
    const now = ctx.now();
    const labels = policy.via === 'teams' ? approverLabels(refs) : [`the approvers of ${record.tickets?.user.number ?? 'the request ticket'} in ServiceNow`];
    record.approval = {
      via: policy.via,
      group,
      approvers: labels,
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + policy.hours * 3_600_000).toISOString(),
    };
    // What the approved transfer needs must outlive the wait, however long the approvers take.
    ctx.vault.hold(record.id);
    await ctx.save(record);
    await ctx.audit.record({
      type: 'approval.requested',
      requestId: record.id,
      actor: actor.userId,
      details: { via: policy.via, group, approvers: labels.join(', '), environment: record.form!.environment, expiresAt: record.approval.expiresAt },
    });
    ctx.notes.add(record, approvalNotes.requested(record, labels));
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onApprovalRequested?.(snapshot, refs));
    return waitingScreen(record);
  }

  /** An approver's Approve or Reject, from a card. */
  decide(who: Approver, requestId: string, outcome: 'approved' | 'rejected', comment: unknown): Promise<ActionOutcome> {
    const verb = outcome === 'approved' ? 'approval.approve' : 'approval.reject';
    const id = String(requestId);
    return this.ctx.serial(id, async () => {
      const record = typeof requestId === 'string' && requestId ? await this.ctx.deps.repository.get(requestId) : undefined;
      const approval = record?.approval;
      if (!record || !approval) return this.refuse('CARD_INACTIVE', who, id, verb, 'no approval was asked for this request');
      if (approval.via !== 'teams') return this.refuse('NOT_ALLOWED', who, id, verb, 'this approval is decided in ServiceNow');
      if (isRequester(record.owner, who.actor)) return this.refuse('NOT_ALLOWED', who, id, verb, 'the requester cannot approve their own request');
      if (!isListedApprover(this.policy?.approvers[approval.group] ?? [], who)) {
        return this.refuse('NOT_ALLOWED', who, id, verb, `not an approver of ${approval.group}`);
      }
      if (record.state !== 'awaiting-approval') {
        // Pressed after the end: the card says how it ended (expired, decided by someone else) and changes nothing.
        if (approval.decision) return { screen: closedScreen(record, approval.decision, who.actor), replayed: true };
        return this.refuse('CARD_INACTIVE', who, id, verb, `the request is ${record.state}`);
      }
      let text: string;
      try {
        text = comment === undefined ? '' : cardString(comment, 'comment', true).trim().slice(0, COMMENT_MAX);
      } catch (e) {
        return this.refuse('BAD_ACTION', who, id, verb, (e as Error).message);
      }
      if (outcome === 'rejected' && !text) {
        return { screen: { kind: 'approvalRequest', record: { ...record }, note: 'Say why you reject it: the requester and both tickets get your comment.' } };
      }
      const decision: Decision = { outcome, by: { userId: who.actor.userId, name: who.actor.name }, ...(text ? { comment: text } : {}), at: this.ctx.now().toISOString() };
      if (outcome === 'approved') await this.approve(record, decision, who.actor);
      else await this.reject(record, decision);
      return { screen: closedScreen(record, decision, who.actor) };
    });
  }

  /** The requester withdraws a waiting request (Cancel, or `cancel <id>`). */
  async cancel(record: RequestRecord, actor: Actor): Promise<Screen> {
    record.approval = { ...record.approval!, decision: { outcome: 'cancelled', by: { userId: actor.userId, name: actor.name }, at: this.ctx.now().toISOString() } };
    await endRequest(this.ctx, record, {
      state: 'cancelled',
      audit: { type: 'request.cancelled', actor: actor.userId, details: { while: 'awaiting approval' } },
      tickets: { how: 'fail', note: notes.requestCancelled(record.id) },
      reason: 'request cancelled while awaiting approval',
    });
    this.closed(record);
    return {
      kind: 'failed',
      requestId: record.id,
      fileName: fileNameOf(record.source?.key),
      code: 'CANCELLED',
      reason: 'The request was cancelled while it waited for approval; nothing was transferred.',
      hint: 'Type "transfer" to start a new request when you are ready.',
      canRetry: false,
    };
  }

  /** The approval window has passed with no decision (the expiry sweep, under the request's lock). */
  async expire(record: RequestRecord): Promise<void> {
    const hours = this.policy?.hours ?? 24;
    record.approval = { ...record.approval!, decision: { outcome: 'expired', at: this.ctx.now().toISOString() } };
    const name = fileNameOf(record.source?.key);
    const note = approvalNotes.expired(record, hours);
    await endRequest(this.ctx, record, {
      state: 'expired',
      audit: { type: 'approval.expired', actor: SYSTEM.userId, details: { group: record.approval.group, expiresAt: record.approval.expiresAt } },
      tickets: { how: 'fail', note },
      notify: this.notice(record, 'expired', `Approval expired: ${name}`, note),
      reason: 'approval expired',
    });
    this.closed(record, {
      kind: 'failed',
      requestId: record.id,
      fileName: name,
      code: 'APPROVAL_EXPIRED',
      reason: `No approver decided within ${approvalWindow(hours)}, so the request has expired; nothing was transferred.`,
      hint: `Type "transfer" to ask again, or ask an approver of ${record.approval.group} to look out for the card.`,
      canRetry: false,
    });
  }

  /**
   * Reads ServiceNow's decision for one waiting request (the poller) and acts on it under the
   * request's lock. Returns the state it saw; a request that changed meanwhile is left alone.
   */
  async pollServiceNow(requestId: string): Promise<TicketApprovalState['state'] | undefined> {
    const { ctx } = this;
    const { ticketing } = ctx.deps;
    const listed = await ctx.deps.repository.get(requestId);
    if (!listed?.tickets || listed.approval?.via !== 'servicenow' || listed.state !== 'awaiting-approval' || !canTrackApprovals(ticketing)) return undefined;
    const seen = await ticketing.approvalOf(listed.tickets.user);
    if (!['approved', 'rejected', 'cancelled'].includes(seen.state)) return seen.state;
    await ctx.serial(requestId, async () => {
      const record = await ctx.deps.repository.get(requestId);
      if (!record || record.state !== 'awaiting-approval' || record.revision !== listed.revision) return;
      const name = seen.by ? `${seen.by} (in ServiceNow)` : 'an approver in ServiceNow';
      const by = { userId: `servicenow:${seen.by ?? 'unknown'}`, name };
      const at = ctx.now().toISOString();
      if (seen.state === 'approved') await this.approve(record, { outcome: 'approved', by, at }, { userId: by.userId, name });
      else await this.reject(record, { outcome: 'rejected', by, comment: seen.state === 'cancelled' ? 'The approval was cancelled in ServiceNow.' : `Rejected in ServiceNow on ${record.tickets!.user.number}.`, at });
    });
    return seen.state;
  }

  /**
   * Stores where the approval cards went, so they can be updated in place later. Not a step of the
   * request (the revision stays). Returns the record as it is now: if the approval already ended,
   * the caller updates the cards it just sent at once.
   */
  async delivered(requestId: string, deliveries: readonly ApprovalDelivery[]): Promise<RequestRecord | undefined> {
    const { ctx } = this;
    return ctx.serial(requestId, async () => {
      const record = await ctx.deps.repository.get(requestId);
      if (!record?.approval) return undefined;
      record.approval = { ...record.approval, deliveries: [...(record.approval.deliveries ?? []), ...deliveries] };
      await ctx.deps.repository.put(record);
      await ctx.audit.record({ type: 'approval.delivered', requestId, actor: SYSTEM.userId, details: { cards: deliveries.length, to: deliveries.map((d) => d.to).join(', ') } });
      return record;
    });
  }

  private async approve(record: RequestRecord, decision: Decision, approver: Actor): Promise<void> {
    const { ctx } = this;
    record.approval = { ...record.approval!, decision };
    const name = fileNameOf(record.source?.key);
    const note = approvalNotes.approved(record, decision);
    await ctx.audit.record({ type: 'approval.approved', requestId: record.id, actor: decision.by!.userId, details: { approver: decision.by!.name, comment: decision.comment ?? null, via: record.approval.via } });
    ctx.notes.add(record, note);
    await this.notify(this.notice(record, 'approved', `Transfer approved: ${name}`, note));
    const holdings = ctx.vault.get(record.id)?.holdings ?? this.serviceHoldings(record);
    if (!record.job || !holdings) {
      await this.unusable(record, approver);
      return;
    }
    await this.transfers.launch(record, approver, record.job, holdings);
    this.closed(record);
  }

  private async reject(record: RequestRecord, decision: Decision): Promise<void> {
    record.approval = { ...record.approval!, decision };
    const name = fileNameOf(record.source?.key);
    const note = approvalNotes.rejected(record, decision);
    await endRequest(this.ctx, record, {
      state: 'cancelled',
      audit: { type: 'approval.rejected', actor: decision.by!.userId, details: { approver: decision.by!.name, comment: decision.comment ?? null, via: record.approval.via } },
      tickets: { how: 'fail', note },
      notify: this.notice(record, 'rejected', `Transfer rejected: ${name}`, note),
      reason: 'approval rejected',
    });
    this.closed(record, {
      kind: 'failed',
      requestId: record.id,
      fileName: name,
      code: 'APPROVAL_REJECTED',
      reason: `${decision.by!.name} rejected the request${decision.comment ? `: "${decision.comment}"` : ''}. Nothing was transferred.`,
      hint: 'Type "transfer" to start a new request if the reason can be addressed.',
      canRetry: false,
    });
  }

  /**
   * Approved, but what the transfer needs died with the process that prepared it (a restart while
   * the request waited): a password typed on the card, or the requester's cloud sign-in. Ends as
   * failed with what to do; the approval stays on record.
   */
  private async unusable(record: RequestRecord, approver: Actor): Promise<void> {
    const job = record.job;
    const typed = !!job && job.destination.protocol !== 'local' && needsTypedSecret([job.destination.passwordRef]);
    const name = fileNameOf(record.source?.key);
    record.failure = {
      code: typed ? 'SECRET_NOT_FOUND' : 'AUTH_FAILED',
      message: `The request was approved, but FileFerry restarted while it waited, and ${typed ? 'the password typed on the card' : 'your cloud sign-in'} lived only in the process that stopped.`,
      hint: 'Type "transfer" to start a new request; it will need approval again.',
      retryable: false,
    };
    await endRequest(this.ctx, record, {
      state: 'failed',
      audit: { type: 'transfer.failed', actor: approver.userId, details: { code: record.failure.code, message: record.failure.message, retryable: false } },
      tickets: { how: 'fail', note: notes.failed(name, record.failure.code, record.failure.message, record.failure.hint) },
      reason: 'approved, but the job can no longer run',
    });
    this.closed(record, { kind: 'failed', requestId: record.id, fileName: name, code: record.failure.code, reason: record.failure.message, hint: record.failure.hint, canRetry: false });
  }

  /** After a restart: a reader the service may use itself (the local folder), if the job needs nothing the old process held. */
  private serviceHoldings(record: RequestRecord): JobHoldings | undefined {
    const job = record.job;
    if (!job || (job.destination.protocol !== 'local' && needsTypedSecret([job.destination.passwordRef]))) return undefined;
    const source = this.ctx.deps.serviceSource?.(job.source);
    return source ? { source: singleObjectSource(source, job.source.container, unpinObject(job.source.object)) } : undefined;
  }

  /** Asks ServiceNow for the approval on the requester's ticket; a note for the confirm card when it could not. */
  private async askServiceNow(record: RequestRecord): Promise<string | undefined> {
    const { ticketing } = this.ctx.deps;
    if (!canTrackApprovals(ticketing) || !record.tickets) return 'This request needs an approval in ServiceNow, but the ticketing backend cannot ask for one. Ask an administrator to check SERVICENOW_APPROVAL; nothing was sent.';
    try {
      await ticketing.requestApproval(record.tickets.user);
      return undefined;
    } catch (e) {
      const err = e as { message?: string; hint?: string; retryable?: boolean };
      this.ctx.log.warn({ requestId: record.id, error: err.message }, 'could not ask ServiceNow for the approval');
      return `ServiceNow could not be asked for the approval, so nothing was sent: ${err.message ?? String(e)} ${err.retryable ? 'Press Confirm again in a moment.' : err.hint ?? ''}`.trim();
    }
  }

  private notice(record: RequestRecord, outcome: 'approved' | 'rejected' | 'expired', title: string, text: string): AuditChannelMessage {
    const t = record.tickets;
    return {
      title,
      text,
      requestId: record.id,
      outcome,
      facts: { requester: record.owner.name, group: record.approval?.group ?? '', userTicket: t?.user.number ?? '', auditTicket: t?.audit.number ?? '' },
      ...(t ? { links: [{ title: t.user.number, url: t.user.url }, { title: t.audit.number, url: t.audit.url }] } : {}),
    };
  }

  /** A notifier outage never stops an approval: postNotice logs and audits a failure. */
  private async notify(message: AuditChannelMessage): Promise<void> {
    await postNotice(this.ctx, message);
  }

  /** Tells the listeners the approval is over. */
  private closed(record: RequestRecord, requesterScreen?: Screen): void {
    const snapshot = { ...record };
    for (const l of this.ctx.listeners) safely(() => l.onApprovalClosed?.(snapshot, requesterScreen));
  }

  private async refuse(code: WorkflowErrorCode, who: Approver, requestId: string, verb: string, why: string): Promise<never> {
    this.ctx.log.warn({ requestId, verb, refusal: code, why }, 'approval action refused');
    await this.ctx.audit.record({ type: 'action.refused', requestId: requestId.slice(0, 40), actor: who.actor.userId, details: { verb, code, why } });
    throw new WorkflowError(code, why);
  }
}

/** The requester's "Waiting for approval by …" screen. */
export function waitingScreen(record: RequestRecord): Screen {
  const a = record.approval!;
  return {
    kind: 'awaitingApproval',
    requestId: record.id,
    fileName: fileNameOf(record.source?.key),
    approvers: a.approvers,
    via: a.via,
    expiresAt: a.expiresAt,
    ...(record.tickets ? { tickets: record.tickets } : {}),
  };
}

/** An approver's card once the approval is over, as `viewer` sees it. */
export function closedScreen(record: RequestRecord, decision: Decision, viewer?: Actor): Screen {
  return {
    kind: 'approvalClosed',
    requestId: record.id,
    fileName: fileNameOf(record.source?.key),
    outcome: decision.outcome,
    ...(decision.by ? { byName: decision.by.name } : {}),
    byYou: !!viewer && !!decision.by && decision.by.userId.toLowerCase() === viewer.userId.toLowerCase(),
    ...(decision.comment ? { comment: decision.comment } : {}),
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // Listeners log their own errors.
  }
}
