import { fileNameOf, type Actor, type RequestRecord } from '../domain/requestRecord';
import { moveTo } from '../domain/requestStates';
import { WorkflowError } from '../domain/workflowError';
import { isFerryError } from '../domain/errors';
import type { IdentitySession, SignInScope } from '../ports/identityProvider';
import { choosesRole, type RoleQuestion } from '../ports/roleChoice';
import { endRequest } from './requestEnding';
import { notes } from './ticketWording';
import { cardString } from './actionGuard';
import { applyFilter, listContainers, openFolder, turnPage } from './browsing';
import type { DestinationStep } from './destinationStep';
import { keyProblem } from './requestValidation';
import type { ActionOutcome, Screen } from './screens';
import type { WorkflowContext } from './workflowContext';

/**
 * Sign-in and the read-only pickers: the one sign-in a request ever has, then buckets, folders,
 * pages, the name filter and the file pick, each checked against what this session listed.
 */
export class BrowsingStep {
  constructor(
    private readonly ctx: WorkflowContext,
    private readonly destinationStep: DestinationStep,
  ) {}

  /** "Continue as …" / "I have signed in". One sign-in per request, ever. */
  async continueSignIn(record: RequestRecord, actor: Actor): Promise<ActionOutcome> {
    const { ctx } = this;
    if (record.signedInAt) throw new WorkflowError('SESSION_ENDED', `Request ${record.id} has signed in before.`);
    const waiting = this.roleQuestion(record);
    if (waiting) return { screen: waiting };
    let result: Awaited<ReturnType<typeof ctx.deps.identity.completeSignIn>>;
    try {
      result = await ctx.deps.identity.completeSignIn(scopeOf(record));
    } catch (e) {
      return { screen: await this.signInFailed(record, e) };
    }
    if (result.status === 'pending') {
      // The person approved and the provider now waits for the account/role pick.
      const asked = this.roleQuestion(record);
      if (asked) return { screen: asked };
      const challenge = ctx.vault.get(record.id)?.challenge;
      if (!challenge) throw new WorkflowError('SESSION_ENDED', `The sign-in of ${record.id} has timed out.`);
      return { screen: { kind: 'signIn', requestId: record.id, challenge, note: 'The sign-in is not finished yet: complete it in the browser, then press the button again.' } };
    }
    return this.signedIn(record, actor, result.session);
  }

  /**
   * An account or role picked on the card: only an option the provider listed for this request's
   * sign-in is taken. Then the next question (the roles), or the sign-in finishing as the button does.
   */
  async pickRole(record: RequestRecord, actor: Actor, step: unknown, value: unknown): Promise<ActionOutcome> {
    const { identity } = this.ctx.deps;
    if (record.signedInAt) throw new WorkflowError('SESSION_ENDED', `Request ${record.id} has signed in before.`);
    const which = cardString(step, 'step');
    if (!choosesRole(identity) || (which !== 'account' && which !== 'role')) throw new WorkflowError('BAD_ACTION', 'The card sent no usable step.');
    const answer = await identity.answerRole(scopeOf(record), which, cardString(value, which));
    if (answer.status === 'not-offered') throw new WorkflowError('NOT_LISTED', `That ${which} was not offered to this sign-in.`);
    if (answer.status === 'not-waiting') throw new WorkflowError('CARD_INACTIVE', `The sign-in of ${record.id} is not waiting for an ${which}.`);
    await this.ctx.audit.record({ type: 'signin.role-picked', requestId: record.id, actor: actor.userId, details: { step: which, value: cardString(value, which) } });
    if (answer.status === 'asked') return { screen: this.rolePicker(record, answer.question) };
    return this.continueSignIn(record, actor);
  }

  /** The picker for the question the sign-in waits on now, if any. */
  private roleQuestion(record: RequestRecord): Screen | undefined {
    const { identity } = this.ctx.deps;
    const question = choosesRole(identity) ? identity.roleQuestion(scopeOf(record)) : undefined;
    return question && this.rolePicker(record, question);
  }

  rolePicker(record: RequestRecord, question: RoleQuestion): Screen {
    return { kind: 'rolePicker', requestId: record.id, provider: record.signInProvider ?? this.ctx.deps.identity.name, question };
  }

  /**
   * The provider finished the sign-in by itself (its background poll): the same step as the
   * button, for whoever started the request. Undefined when the request moved on meanwhile (the
   * button got there first, or it was cancelled).
   */
  async signedInInBackground(record: RequestRecord, outcome: { session: IdentitySession } | { error: unknown }): Promise<Screen | undefined> {
    if (record.state !== 'ticketed' || record.signedInAt) return undefined;
    if ('error' in outcome) return this.signInFailed(record, outcome.error);
    return (await this.signedIn(record, record.owner, outcome.session)).screen;
  }

  /**
   * A sign-in the provider refused, that expired, or that someone other than the requester made:
   * the request ends as failed (it can never sign in again; a new request is needed), audited.
   */
  private async signInFailed(record: RequestRecord, e: unknown): Promise<Screen> {
    if (!isFerryError(e) || (e.retryable && e.code !== 'TIMEOUT')) throw e;
    const mismatch = e.code === 'IDENTITY_MISMATCH';
    record.failure = { code: e.code, message: e.message, hint: e.hint || 'Type "transfer" to start a new request.', retryable: false };
    await endRequest(this.ctx, record, {
      state: 'failed',
      audit: { type: mismatch ? 'signin.identity-mismatch' : 'signin.failed', actor: record.owner.userId, details: { provider: record.signInProvider ?? this.ctx.deps.identity.name, code: e.code } },
      tickets: { how: 'fail', note: `The sign-in for request ${record.id} did not complete (${e.code}): ${e.message}` },
      reason: mismatch ? 'identity mismatch' : 'sign-in failed',
    });
    return { kind: 'failed', requestId: record.id, fileName: fileNameOf(record.form?.key) || 'Your file', code: e.code, reason: e.message, hint: record.failure.hint, canRetry: false };
  }

  private async signedIn(record: RequestRecord, actor: Actor, identity: IdentitySession): Promise<ActionOutcome> {
    const { ctx } = this;
    const session = ctx.sessions.open(record.id, identity);
    ctx.vault.patch(record.id, { challenge: undefined });
    moveTo(record, 'signed-in');
    record.signedInAt = ctx.now().toISOString();
    await ctx.save(record);
    await ctx.audit.record({ type: 'signin.completed', requestId: record.id, actor: actor.userId, details: { provider: record.signInProvider ?? ctx.deps.identity.name, principal: identity.principal } });
    ctx.notes.add(record, notes.signedIn(record.owner.name, record.signInProvider ?? ctx.deps.identity.name, identity.principal));
    const form = record.form!;
    const buckets = await listContainers(session, record.id, form.cloud, form.region);
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
    return { screen: await openFolder(session, record.id, form.container, prefix, form.key.slice(slash)) };
  }

  async pickBucket(record: RequestRecord, container: unknown): Promise<ActionOutcome> {
    const session = this.ctx.sessions.require(record.id);
    return { screen: await openFolder(session, record.id, cardString(container, 'container'), '') };
  }

  async openFolder(record: RequestRecord, prefix: unknown): Promise<ActionOutcome> {
    const session = this.ctx.sessions.require(record.id);
    const container = session.browse?.container;
    if (!container) throw new WorkflowError('CARD_INACTIVE', 'No bucket is open.');
    return { screen: await openFolder(session, record.id, container, cardString(prefix, 'prefix', true)) };
  }

  async turnPage(record: RequestRecord, direction: unknown): Promise<ActionOutcome> {
    const session = this.ctx.sessions.require(record.id);
    return { screen: await turnPage(session, record.id, cardString(direction, 'direction')) };
  }

  async filterFiles(record: RequestRecord, filter: unknown): Promise<ActionOutcome> {
    const session = this.ctx.sessions.require(record.id);
    const text = cardString(filter, 'filter', true).trim();
    if (text.includes('/') || keyProblem(text) || text.length > 200) throw new WorkflowError('BAD_ACTION', 'The filter is a name start without "/".');
    return { screen: await applyFilter(session, record.id, text) };
  }

  async pickFile(record: RequestRecord, actor: Actor, key: unknown): Promise<ActionOutcome> {
    const session = this.ctx.sessions.require(record.id);
    const container = session.browse?.container;
    const object = container ? session.objects.get(`${container}\n${cardString(key, 'key')}`) : undefined;
    if (!container || !object) throw new WorkflowError('NOT_LISTED', 'That file was not listed in this session.');
    record.source = { container, key: object.key, size: object.size, lastModified: object.lastModified?.toISOString(), etag: object.etag };
    moveTo(record, 'source-chosen');
    await this.ctx.save(record);
    await this.ctx.audit.record({ type: 'source.chosen', requestId: record.id, actor: actor.userId, details: { container, key: object.key, size: object.size, etag: object.etag ?? null } });
    return { screen: this.destinationStep.form(record) };
  }
}

/** What the identity provider is asked to sign in for: the request's user, cloud and region. */
export function scopeOf(record: RequestRecord): SignInScope {
  return {
    requestId: record.id,
    user: { id: record.owner.userId, tenantId: record.owner.tenantId, name: record.owner.name, ...(record.owner.upn ? { upn: record.owner.upn } : {}) },
    cloud: record.form!.cloud,
    region: record.form!.region,
  };
}
