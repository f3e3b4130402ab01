import { runTransfer } from '../transfer/engine';
import { ActionGate } from './actionGate';
import { AuditTrail } from './auditTrail';
import { applyFilter, listContainers, openFolder, turnPage } from './browsing';
import { DestinationStep } from './destinationStep';
import { HostKeyMemory } from './hostKeyMemory';
import { newRequestId } from './requestId';
import { ENDED_STATES, OPEN_STATES, fileNameOf, type Actor, type RequestRecord, type RequestState } from '../domain/requestRecord';
import { keyProblem, validateRequestForm } from './requestValidation';
import { PRIORITIES } from './regions';
import type { ActionOutcome, Screen } from './screens';
import { SecretVault } from './secretVault';
import { SignInSessions } from './sessions';
import { TransferJobs } from './transferJobs';
import { TransferStep } from './transferStep';
import type { TransferListener, Volatile, WorkflowContext, WorkflowDeps } from './workflowContext';
import { WorkflowError, type WorkflowErrorCode } from '../domain/workflowError';

const BROWSING: RequestState[] = ['signed-in'];
/** How long a repeat of the action that ended a request is still answered from the memo. */
const ENDED_REPLAY_MS = 60_000;

/**
 * The request state machine, one method per card action. Every action is authorised against
 * server-side state before it does anything: the request exists, belongs to the same user and
 * tenant, is at the step the action belongs to, and names only containers, folders, keys and
 * destinations this session listed or the policy allows. A refusal is a WorkflowError (the bot
 * shows "this card is no longer active"), is audited, and never lists or transfers anything.
 * Side-effecting actions are idempotent (see ActionGate). No SDK is imported here.
 */
export class RequestWorkflow {
  private readonly ctx: WorkflowContext;
  private readonly gate = new ActionGate<ActionOutcome>();
  private readonly destinationStep: DestinationStep;
  private readonly transferStep: TransferStep;

  constructor(private readonly deps: WorkflowDeps) {
    const log = deps.log;
    const retryMinutes = deps.policy.retryWindowMinutes ?? 30;
    this.ctx = {
      deps,
      log,
      sessions: new SignInSessions(deps.identity, log),
      vault: new SecretVault<Volatile>(Math.max(retryMinutes, deps.policy.requestTtlMinutes ?? 60) * 60_000),
      hostKeys: new HostKeyMemory(),
      jobs: new TransferJobs(deps.runTransfer ?? runTransfer, deps.tuning),
      audit: new AuditTrail(deps.audit, log),
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
    this.destinationStep = new DestinationStep(this.ctx);
    this.transferStep = new TransferStep(this.ctx);
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
      const record = await this.load(actor, requestId, 'attachCard');
      record.cardActivityId = activityId;
      await this.deps.repository.put(record);
    });
  }

  submitRequest(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'request.submit', ['draft'], true, async (record) => {
      const checked = validateRequestForm(inputs, this.deps.policy.assignmentGroups);
      if (!checked.ok) return { screen: this.requestForm(record, checked.values, checked.errors) };
      const form = checked.values;
      record.form = form;
      record.tickets = await this.deps.ticketing.createPair({
        requestId: record.id,
        requester: { id: actor.userId, name: actor.name },
        summary: `File transfer ${record.id}: ${form.environment} ${form.cloud} ${form.region} ${[form.container, form.key].filter(Boolean).join('/') || '(to be picked)'}`,
        description: [
          `Requester: ${actor.name}`,
          `Environment: ${form.environment}`,
          `Cloud / region: ${form.cloud} ${form.region}`,
          `Bucket or container: ${form.container || '(picked after sign-in)'}`,
          `File or prefix: ${form.key || '(picked after sign-in)'}`,
          `Justification: ${form.justification}`,
        ].join('\n'),
        assignmentGroup: form.assignmentGroup,
        priority: form.priority,
        environment: form.environment,
      });
      record.state = 'ticketed';
      const challenge = await this.deps.identity.beginSignIn(this.scope(record));
      record.signInProvider = this.deps.identity.name;
      this.ctx.vault.patch(record.id, { challenge });
      await this.ctx.save(record);
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

  /** "Continue as …" / "I have signed in". One sign-in per request, ever. */
  continueSignIn(actor: Actor, requestId: string): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'signin.continue', ['ticketed'], true, async (record) => {
      if (record.signedInAt) throw new WorkflowError('SESSION_ENDED', `Request ${record.id} has signed in before.`);
      const result = await this.deps.identity.completeSignIn(this.scope(record));
      if (result.status === 'pending') {
        const challenge = this.ctx.vault.get(record.id)?.challenge;
        if (!challenge) throw new WorkflowError('SESSION_ENDED', `The sign-in of ${record.id} has timed out.`);
        return { screen: { kind: 'signIn', requestId, challenge, note: 'The sign-in is not finished yet: complete it in the browser, then press the button again.' } };
      }
      const session = this.ctx.sessions.open(record.id, result.session);
      this.ctx.vault.patch(record.id, { challenge: undefined });
      record.state = 'signed-in';
      record.signedInAt = this.ctx.now().toISOString();
      await this.ctx.save(record);
      await this.ctx.audit.record({ type: 'signin.completed', requestId, actor: actor.userId, details: { provider: this.deps.identity.name, principal: result.session.principal } });
      const form = record.form!;
      const buckets = await listContainers(session, requestId, form.cloud, form.region);
      if (!form.container) return { screen: buckets };
      if (!session.containers.has(form.container)) {
        return { screen: { ...buckets, note: `The bucket ${form.container} is not visible to you here; pick one of these.` } as Screen };
      }
      const slash = form.key.lastIndexOf('/') + 1;
      const prefix = form.key.slice(0, slash);
      if (prefix) {
        let known = session.prefixes.get(form.container);
        if (!known) session.prefixes.set(form.container, (known = new Set()));
        known.add(prefix);
      }
      return { screen: await openFolder(session, requestId, form.container, prefix, form.key.slice(slash)) };
    });
  }

  pickBucket(actor: Actor, requestId: string, container: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'bucket.pick', BROWSING, false, async (record) => {
      const session = this.ctx.sessions.require(record.id);
      return { screen: await openFolder(session, requestId, str(container, 'container'), '') };
    });
  }

  openFolder(actor: Actor, requestId: string, prefix: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'files.open', BROWSING, false, async (record) => {
      const session = this.ctx.sessions.require(record.id);
      const container = session.browse?.container;
      if (!container) throw new WorkflowError('CARD_INACTIVE', 'No bucket is open.');
      return { screen: await openFolder(session, requestId, container, str(prefix, 'prefix', true)) };
    });
  }

  turnPage(actor: Actor, requestId: string, direction: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'files.page', BROWSING, false, async (record) => {
      const session = this.ctx.sessions.require(record.id);
      return { screen: await turnPage(session, requestId, str(direction, 'direction')) };
    });
  }

  filterFiles(actor: Actor, requestId: string, filter: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'files.filter', BROWSING, false, async (record) => {
      const session = this.ctx.sessions.require(record.id);
      const text = str(filter, 'filter', true).trim();
      if (text.includes('/') || keyProblem(text) || text.length > 200) throw new WorkflowError('BAD_ACTION', 'The filter is a name start without "/".');
      return { screen: await applyFilter(session, requestId, text) };
    });
  }

  pickFile(actor: Actor, requestId: string, key: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'file.pick', BROWSING, true, async (record) => {
      const session = this.ctx.sessions.require(record.id);
      const container = session.browse?.container;
      const object = container ? session.objects.get(`${container}\n${str(key, 'key')}`) : undefined;
      if (!container || !object) throw new WorkflowError('NOT_LISTED', 'That file was not listed in this session.');
      record.source = {
        container,
        key: object.key,
        size: object.size,
        lastModified: object.lastModified?.toISOString(),
        etag: object.etag,
      };
      record.state = 'source-chosen';
      await this.ctx.save(record);
      await this.ctx.audit.record({ type: 'source.chosen', requestId, actor: actor.userId, details: { container, key: object.key, size: object.size, etag: object.etag ?? null } });
      return { screen: this.destinationStep.form(record) };
    });
  }

  submitDestination(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'dest.submit', ['source-chosen'], true, (record) => this.destinationStep.submit(record, actor, inputs));
  }

  testDestination(actor: Actor, requestId: string, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'dest.test', ['source-chosen'], false, (record) => this.destinationStep.test(record, actor, inputs));
  }

  trustHostKey(actor: Actor, requestId: string, fingerprint: unknown): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'dest.trustHostKey', ['source-chosen'], true, (record) => this.destinationStep.trustHostKey(record, actor, fingerprint));
  }

  confirmTransfer(actor: Actor, requestId: string, cardActivityId?: string): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'transfer.confirm', ['destination-set'], true, async (record) => ({
      screen: await this.transferStep.confirm(record, actor, cardActivityId),
    }));
  }

  retry(actor: Actor, requestId: string, cardActivityId?: string): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'transfer.retry', ['failed'], true, async (record) => ({
      screen: await this.transferStep.retry(record, actor, cardActivityId),
    }));
  }

  /**
   * Cancels a request at any open step, or a running transfer. A running transfer is asked to
   * stop and the answer ("cancelling") comes at once, well inside Teams' invoke time limit; the
   * transfer's own end posts the cancelled card on its card once the engine has stopped and
   * cleaned up. Repeating it answers "cancelling" again. A request left `transferring` with no job
   * in this process (after a restart) is marked failed (INTERRUPTED), so it never stays stuck.
   */
  cancel(actor: Actor, requestId: string): Promise<ActionOutcome> {
    return this.act(actor, requestId, 'transfer.cancel', [...OPEN_STATES, 'transferring'], true, async (record) => {
      if (record.state === 'transferring') {
        const how = this.transferStep.cancelRunning(record.id);
        if (how === 'cancelling') return { screen: { kind: 'cancelling', requestId: record.id, fileName: fileNameOf(record.source?.key) } };
        if (how === 'finishing') throw new WorkflowError('CARD_INACTIVE', `The transfer of ${record.id} is finishing.`);
        return { screen: await this.transferStep.interrupt(record, actor.userId, 'cancel') };
      }
      record.state = 'cancelled';
      await this.ctx.save(record);
      this.ctx.vault.wipe(record.id);
      await this.ctx.sessions.end(record.id, 'request cancelled');
      await this.ctx.audit.record({ type: 'request.cancelled', requestId, actor: actor.userId });
      await this.transferStep.closeTickets(record, 'fail', `Request ${record.id} was cancelled by the requester before any transfer.`);
      return { screen: cancelledScreen(record) };
    });
  }

  /** `status [id]`: one request, or the user's open ones (else the latest). */
  async status(actor: Actor, requestId?: string): Promise<Screen> {
    if (requestId) {
      const record = await this.load(actor, requestId, 'request.status');
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
   * Expires requests left unfinished longer than the TTL (and failed ones past the retry window):
   * sessions and secrets are wiped, tickets failed. A request `transferring` for longer than the
   * TTL with no job in this process (orphaned by a restart) is marked failed (INTERRUPTED) and its
   * owner told. Returns how many expired or failed.
   */
  async expireStale(): Promise<number> {
    const ttl = (this.deps.policy.requestTtlMinutes ?? 60) * 60_000;
    const retry = (this.deps.policy.retryWindowMinutes ?? 30) * 60_000;
    const now = this.ctx.now().getTime();
    const stale = [
      ...(await this.deps.repository.listStale(OPEN_STATES, new Date(now - ttl))),
      ...(await this.deps.repository.listStale(['failed'], new Date(now - retry))).filter((r) => r.failure?.retryable),
    ];
    const orphans = (await this.deps.repository.listStale(['transferring'], new Date(now - ttl))).filter((r) => !this.transferStep.isActive(r.id));
    for (const old of orphans) {
      await this.gate.serial(old.id, async () => {
        const record = await this.deps.repository.get(old.id);
        if (!record || record.revision !== old.revision || record.state !== 'transferring' || this.transferStep.isActive(record.id)) return;
        const screen = await this.transferStep.interrupt(record, 'system', 'expiry');
        const snapshot = { ...record };
        for (const l of this.ctx.listeners) {
          try {
            l.onFinished?.(snapshot, screen);
          } catch {
            // Listeners log their own errors.
          }
        }
      });
    }
    for (const old of stale) {
      await this.gate.serial(old.id, async () => {
        const record = await this.deps.repository.get(old.id);
        if (!record || record.revision !== old.revision) return;
        record.state = 'expired';
        await this.ctx.save(record);
        this.ctx.vault.wipe(record.id);
        this.gate.forget(record.id);
        await this.ctx.sessions.end(record.id, 'request expired');
        await this.ctx.audit.record({ type: 'request.expired', requestId: record.id, actor: 'system' });
        await this.transferStep.closeTickets(record, 'fail', `Request ${record.id} expired without a completed transfer.`);
      });
    }
    return stale.length + orphans.length;
  }

  /** Stops running transfers and wipes every session and secret (process shutdown). */
  async shutdown(): Promise<void> {
    await this.ctx.jobs.cancelAll();
    await this.ctx.sessions.endAll('shutdown');
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

  private scope(record: RequestRecord) {
    return { requestId: record.id, user: { id: record.owner.userId, tenantId: record.owner.tenantId, name: record.owner.name }, cloud: record.form!.cloud, region: record.form!.region };
  }

  /** Loads the record and checks it belongs to `actor` (same user and tenant). */
  private async load(actor: Actor, requestId: string, verb: string): Promise<RequestRecord> {
    const record = typeof requestId === 'string' && requestId ? await this.deps.repository.get(requestId) : undefined;
    if (!record) return this.refuse('CARD_INACTIVE', actor, requestId, verb, 'no such request');
    if (record.owner.userId !== actor.userId || (record.owner.tenantId ?? '') !== (actor.tenantId ?? '')) {
      return this.refuse('NOT_YOURS', actor, requestId, verb, 'the request belongs to another user');
    }
    return record;
  }

  /**
   * The guard every card action passes: one at a time per request, owner check, idempotent
   * replay, step check, then the step itself. Refusals are audited.
   */
  private act(
    actor: Actor,
    requestId: string,
    verb: string,
    states: readonly RequestState[],
    idempotent: boolean,
    step: (record: RequestRecord) => Promise<ActionOutcome>,
  ): Promise<ActionOutcome> {
    return this.gate.serial(String(requestId), async () => {
      const record = await this.load(actor, requestId, verb);
      if (idempotent) {
        const replay = this.gate.recall(record.id, verb, record.revision);
        if (replay) {
          this.ctx.log.info({ requestId, verb }, 'repeated action answered from the idempotency memo');
          return { ...replay, replayed: true };
        }
      }
      if (!states.includes(record.state)) return this.refuse('CARD_INACTIVE', actor, requestId, verb, `the request is ${record.state}`);
      const before = record.revision;
      try {
        const outcome = await step(record);
        if (idempotent && record.revision !== before) this.gate.remember(record.id, verb, record.revision, outcome);
        // The request has ended: keep the memo only long enough to answer a repeat of this click.
        if (ENDED_STATES.includes(record.state)) this.gate.forget(record.id, ENDED_REPLAY_MS);
        return outcome;
      } catch (e) {
        if (e instanceof WorkflowError) return this.refuse(e.code, actor, requestId, verb, e.message);
        throw e;
      }
    });
  }

  private async refuse(code: WorkflowErrorCode, actor: Actor, requestId: string, verb: string, why: string): Promise<never> {
    this.ctx.log.warn({ requestId: String(requestId), verb, refusal: code, why }, 'card action refused');
    await this.ctx.audit.record({ type: 'action.refused', requestId: String(requestId).slice(0, 40), actor: actor.userId, details: { verb, code, why } });
    throw new WorkflowError(code, why);
  }
}

function cancelledScreen(record: RequestRecord): Screen {
  return {
    kind: 'failed',
    requestId: record.id,
    fileName: fileNameOf(record.source?.key),
    code: 'CANCELLED',
    reason: 'The request was cancelled; nothing was transferred.',
    hint: 'Type "transfer" to start a new request when you are ready.',
    canRetry: false,
  };
}

/** A string from card data; anything else (forged JSON) is a BAD_ACTION. */
function str(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '') || value.length > 2048) {
    throw new WorkflowError('BAD_ACTION', `The card sent no usable ${what}.`);
  }
  return value;
}
