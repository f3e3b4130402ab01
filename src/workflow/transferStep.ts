import type { FerryError } from '../domain/errors';
import type { TransferResult } from '../transfer/types';
import { fileNameOf, type Actor, type RequestRecord } from '../domain/requestRecord';
import type { Screen } from './screens';
import { objectKey } from './sessions';
import { singleObjectSource } from './singleObjectSource';
import type { JobOutcome, JobSpec } from './transferJobs';
import type { WorkflowContext } from './workflowContext';
import { WorkflowError } from '../domain/workflowError';

/**
 * Confirm, cancel, retry and the end of a transfer. On confirm the job starts in the background,
 * the sign-in session is scheduled to end `autoLogoutSeconds` later, and the job keeps only a
 * single-object reader and the opened destination. The end of a job updates the record, both
 * tickets, the audit log and the notifier, then tells the listeners (progress card, metrics).
 */
export class TransferStep {
  /** requestId → the promise of the finished screen, while a job runs or finishes. */
  private readonly finishing = new Map<string, Promise<Screen>>();
  /** Requests whose running job was cancelled and is still stopping or finishing. */
  private readonly cancelling = new Set<string>();

  constructor(private readonly ctx: WorkflowContext) {}

  async confirm(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<Screen> {
    const session = this.ctx.sessions.get(record.id);
    const source = record.source!;
    const object = session?.objects.get(objectKey(source.container, source.key));
    if (!session || !object) throw new WorkflowError('SESSION_ENDED', `The sign-in session of ${record.id} has ended.`);
    const stored = record.destination!;
    const secrets = this.ctx.vault.get(record.id);
    const destination = this.ctx.deps.destinations.open(stored.spec, {
      password: secrets?.password,
      hostKey: stored.hostKeyFingerprint ? { kind: 'pinned', fingerprint: stored.hostKeyFingerprint } : undefined,
    });
    const job: JobSpec = {
      source: singleObjectSource(session.identity.source, source.container, object),
      container: source.container,
      object,
      destination,
      remotePath: stored.remotePath,
      overwrite: stored.overwrite,
    };
    // The opened destination now holds the password; the vault keeps the job (for Retry) and nothing else.
    this.ctx.vault.patch(record.id, { password: undefined, job });
    if (cardActivityId) record.cardActivityId = cardActivityId;
    this.ctx.sessions.endAfter(record.id, this.ctx.deps.policy.autoLogoutSeconds, 'auto-logout after the transfer started');
    return this.start(record, actor, job);
  }

  async retry(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<Screen> {
    const job = this.ctx.vault.get(record.id)?.job;
    if (!job || !record.failure?.retryable) throw new WorkflowError('SESSION_ENDED', `The retry window of ${record.id} has passed.`);
    if (cardActivityId) record.cardActivityId = cardActivityId;
    record.failure = undefined;
    return this.start(record, actor, job);
  }

  /**
   * Asks the request's job to stop and returns at once, without waiting for the engine to stop
   * and clean up (that can take seconds against an unreachable server): the job's own end posts
   * the cancelled card. Idempotent. 'cancelling' when a cancel is under way (this one or an
   * earlier one), 'finishing' when the job already ended by itself and is being recorded, and
   * 'none' when the request has no job in this process (see `interrupt`).
   */
  cancelRunning(requestId: string): 'cancelling' | 'finishing' | 'none' {
    if (this.ctx.jobs.cancel(requestId)) {
      this.cancelling.add(requestId);
      return 'cancelling';
    }
    if (!this.finishing.has(requestId)) return 'none';
    return this.cancelling.has(requestId) ? 'cancelling' : 'finishing';
  }

  /** True while the request has a job running or finishing in this process. */
  isActive(requestId: string): boolean {
    return this.ctx.jobs.isRunning(requestId) || this.finishing.has(requestId);
  }

  /**
   * Ends a request left `transferring` with no job in this process (the process restarted while it
   * ran, with a persistent repository): marks it failed with INTERRUPTED and says what to check.
   * Never retryable: what a Retry needs lived in the memory of the process that is gone.
   */
  async interrupt(record: RequestRecord, actorId: string, detectedBy: 'cancel' | 'expiry'): Promise<Screen> {
    const { ctx } = this;
    const name = fileNameOf(record.source?.key);
    const where = record.destination?.label ?? 'the destination';
    const failure = {
      code: 'INTERRUPTED',
      message: `The transfer of ${name} (request ${record.id}) is no longer running: it was interrupted, most likely by a restart of FileFerry.`,
      hint: `Check whether ${name} arrived on ${where}; if it did not, type "transfer" to start a new request.`,
      retryable: false,
    };
    record.state = 'failed';
    record.failure = failure;
    await ctx.save(record);
    ctx.vault.wipe(record.id);
    ctx.forget(record.id);
    await ctx.sessions.end(record.id, 'transfer interrupted');
    await ctx.audit.record({ type: 'transfer.interrupted', requestId: record.id, actor: actorId, details: { code: failure.code, detectedBy } });
    await this.closeTickets(record, 'fail', `The transfer of ${name} was interrupted and is no longer running (${detectedBy === 'cancel' ? 'found on cancel' : 'found on expiry'}).`);
    return { kind: 'failed', requestId: record.id, fileName: name, code: failure.code, reason: failure.message, hint: failure.hint, canRetry: false };
  }

  private async start(record: RequestRecord, actor: Actor, job: JobSpec): Promise<Screen> {
    const { ctx } = this;
    record.state = 'transferring';
    record.transfer = { attempts: (record.transfer?.attempts ?? 0) + 1, startedAt: ctx.now().toISOString() };
    await ctx.save(record);
    await ctx.audit.record({
      type: 'transfer.started',
      requestId: record.id,
      actor: actor.userId,
      details: { source: `${job.container}/${job.object.key}`, size: job.object.size, destination: job.destination.label, remotePath: job.remotePath },
    });
    // What a Retry needs must outlive the transfer, however long it runs.
    ctx.vault.hold(record.id);
    this.cancelling.delete(record.id);
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onStarted?.(snapshot));
    const done = ctx.jobs.start(record.id, job, {
      onProgress: (p) => ctx.listeners.forEach((l) => safely(() => l.onProgress?.(snapshot, p))),
      onEvent: (event) => {
        if (event.type === 'attempt-failed' || event.type === 'resumed' || event.type === 'verified') {
          const { type, ...details } = event;
          void ctx.audit.record({ type: `transfer.${type}`, requestId: record.id, actor: 'system', details: details as Record<string, string | number> });
        }
      },
    });
    const finished = done.then((outcome) => ctx.serial(record.id, () => this.finish(record.id, outcome, snapshot)));
    this.finishing.set(record.id, finished);
    // `finish` settles with a screen even when recording fails; this catch is the last guard, so a
    // rejection here can never become an unhandled one that ends the process (and every transfer).
    void finished
      .catch((e: unknown) => {
        ctx.log.error({ requestId: record.id, error: (e as Error)?.message ?? String(e) }, 'the end of a transfer could not be handled');
      })
      .then(() => {
        if (this.finishing.get(record.id) === finished) {
          this.finishing.delete(record.id);
          this.cancelling.delete(record.id);
        }
      });
    return {
      kind: 'progress',
      requestId: record.id,
      fileName: fileNameOf(job.object.key),
      progress: { bytes: 0, total: job.object.size, percent: 0, rate: 0, attempt: 1 },
    };
  }

  /**
   * Records the job's outcome and tells the listeners. Never rejects: when recording fails (the
   * repository is down, the record is gone), the request is still marked failed as far as
   * possible, its secrets and session are dropped, and the listeners get a failed screen, so the
   * user is told and the process keeps running every other transfer.
   */
  private async finish(requestId: string, outcome: JobOutcome, started: RequestRecord): Promise<Screen> {
    const { ctx } = this;
    let record: RequestRecord | undefined;
    let screen: Screen;
    try {
      record = await ctx.deps.repository.get(requestId);
      if (!record) throw new Error(`request ${requestId} is no longer in the repository`);
      screen = outcome.ok ? await this.completed(record, outcome.result) : await this.failed(record, outcome.error);
    } catch (e) {
      ctx.log.error({ requestId, error: (e as Error)?.message ?? String(e) }, 'could not record the end of the transfer; marking the request failed');
      record = { ...(record ?? started) };
      screen = await this.unrecorded(record, outcome);
    }
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onFinished?.(snapshot, screen));
    return screen;
  }

  /** The end of a job whose outcome could not be recorded: failed, best effort, never throws. */
  private async unrecorded(record: RequestRecord, outcome: JobOutcome): Promise<Screen> {
    const { ctx } = this;
    const name = fileNameOf(record.source?.key);
    const where = record.destination?.label ?? 'the destination';
    const failure = outcome.ok
      ? {
          code: 'INTERNAL',
          message: `${name} was sent to ${where}, but FileFerry could not record the result.`,
          hint: `Check ${name} on ${where} before sending it again, and report this with request ID ${record.id}; the log has the detail.`,
        }
      : {
          code: outcome.error.code,
          message: `${outcome.error.message} (FileFerry could not record this failure.)`,
          hint: outcome.error.hint || `Report this with request ID ${record.id}; the log has the detail.`,
        };
    record.state = !outcome.ok && outcome.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
    record.failure = { ...failure, retryable: false };
    try {
      await ctx.save(record);
    } catch (e) {
      ctx.log.error({ requestId: record.id, error: (e as Error)?.message ?? String(e) }, 'could not store the failed request either');
    }
    ctx.vault.wipe(record.id);
    ctx.forget(record.id);
    await ctx.sessions.end(record.id, 'transfer failed');
    await ctx.audit.record({ type: 'transfer.failed', requestId: record.id, actor: 'system', details: { code: failure.code, message: failure.message, retryable: false, recorded: false } });
    await this.closeTickets(record, 'fail', `The transfer of ${name} ended, but its result could not be recorded: ${failure.message}`);
    await ctx.deps.notifier.notify({ title: `Transfer failed: ${name}`, text: failure.message, requestId: record.id, facts: { code: failure.code } });
    return { kind: 'failed', requestId: record.id, fileName: name, code: failure.code, reason: failure.message, hint: failure.hint, canRetry: false };
  }

  private async completed(record: RequestRecord, result: TransferResult): Promise<Screen> {
    const { ctx } = this;
    record.state = 'completed';
    record.result = { bytes: result.bytes, sha256: result.sha256, seconds: result.seconds, verification: result.verification, finalPath: result.finalPath };
    record.transfer = { ...record.transfer!, attempts: result.attempts };
    await ctx.save(record);
    ctx.vault.wipe(record.id);
    ctx.forget(record.id);
    await ctx.sessions.end(record.id, 'transfer completed');
    const name = fileNameOf(record.source?.key);
    await ctx.audit.record({
      type: 'transfer.completed',
      requestId: record.id,
      actor: 'system',
      details: { bytes: result.bytes, sha256: result.sha256, seconds: result.seconds, attempts: result.attempts, verification: result.verification, finalPath: result.finalPath, destination: record.destination?.label ?? null },
    });
    const note = `Transferred ${name} (${result.bytes} bytes, SHA-256 ${result.sha256}) to ${record.destination?.label} ${result.finalPath}; verified: ${result.verification}.`;
    await this.closeTickets(record, 'resolve', note);
    await ctx.deps.notifier.notify({
      title: `Transfer completed: ${name}`,
      text: note,
      requestId: record.id,
      facts: { requester: record.owner.name, userTicket: record.tickets?.user.number ?? '', auditTicket: record.tickets?.audit.number ?? '' },
    });
    return { kind: 'completed', record: { ...record }, result };
  }

  private async failed(record: RequestRecord, error: FerryError): Promise<Screen> {
    const { ctx } = this;
    const name = fileNameOf(record.source?.key);
    const cancelledByUser = error.code === 'CANCELLED';
    const canRetry = !cancelledByUser && error.retryable && !!ctx.vault.get(record.id)?.job;
    record.state = cancelledByUser ? 'cancelled' : 'failed';
    record.failure = { code: error.code, message: error.message, hint: error.hint, retryable: canRetry };
    await ctx.save(record);
    // A retryable failure keeps what Retry needs for the retry window; anything else drops it now.
    if (canRetry) ctx.vault.release(record.id);
    else ctx.vault.wipe(record.id);
    ctx.forget(record.id);
    await ctx.sessions.end(record.id, cancelledByUser ? 'transfer cancelled' : 'transfer failed');
    await ctx.audit.record({
      type: cancelledByUser ? 'transfer.cancelled' : 'transfer.failed',
      requestId: record.id,
      actor: 'system',
      details: { code: error.code, message: error.message, retryable: canRetry },
    });
    const note = cancelledByUser ? `The transfer of ${name} was cancelled by the requester.` : `The transfer of ${name} failed (${error.code}): ${error.message}`;
    if (canRetry) await this.workNote(record, note);
    else await this.closeTickets(record, 'fail', note);
    if (!cancelledByUser) {
      await ctx.deps.notifier.notify({ title: `Transfer failed: ${name}`, text: note, requestId: record.id, facts: { code: error.code } });
    }
    return {
      kind: 'failed',
      requestId: record.id,
      fileName: name,
      code: error.code,
      reason: cancelledByUser ? 'The transfer was cancelled; nothing was left on the destination.' : error.message,
      hint: cancelledByUser ? 'Type "transfer" to start a new request when you are ready.' : error.hint || 'Try again later, or contact the destination\'s owner.',
      canRetry,
    };
  }

  /** Work notes on both tickets; a ticketing failure is logged, never fails the transfer. */
  private async workNote(record: RequestRecord, note: string): Promise<void> {
    const t = record.tickets;
    if (!t) return;
    try {
      await this.ctx.deps.ticketing.addWorkNote(t.user, note);
      await this.ctx.deps.ticketing.addWorkNote(t.audit, note);
    } catch (e) {
      this.ctx.log.error({ requestId: record.id, error: (e as Error).message }, 'could not add the ticket work notes');
    }
  }

  async closeTickets(record: RequestRecord, how: 'resolve' | 'fail', note: string): Promise<void> {
    const t = record.tickets;
    if (!t) return;
    try {
      await this.ctx.deps.ticketing.addWorkNote(t.user, note);
      await this.ctx.deps.ticketing.addWorkNote(t.audit, note);
      await this.ctx.deps.ticketing[how](t.user, note);
      await this.ctx.deps.ticketing[how](t.audit, note);
    } catch (e) {
      this.ctx.log.error({ requestId: record.id, error: (e as Error).message }, `could not ${how} the tickets`);
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's failure never affects the transfer; listeners log their own errors.
  }
}
