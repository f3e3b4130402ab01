import type { FerryError } from '../errors';
import type { TransferResult } from '../transfer/types';
import { fileNameOf, type Actor, type RequestRecord } from './requestRecord';
import type { Screen } from './screens';
import { objectKey } from './sessions';
import { singleObjectSource } from './singleObjectSource';
import type { JobOutcome, JobSpec } from './transferJobs';
import type { WorkflowContext } from './workflowContext';
import { WorkflowError } from './workflowError';

/**
 * Confirm, cancel, retry and the end of a transfer. On confirm the job starts in the background,
 * the sign-in session is scheduled to end `autoLogoutSeconds` later, and the job keeps only a
 * single-object reader and the opened destination. The end of a job updates the record, both
 * tickets, the audit log and the notifier, then tells the listeners (progress card, metrics).
 */
export class TransferStep {
  /** requestId → the promise of the finished screen, while a job runs or finishes. */
  private readonly finishing = new Map<string, Promise<Screen>>();

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

  /** Aborts a running job; resolves with the finished (cancelled) screen. */
  cancelRunning(requestId: string): Promise<Screen> | undefined {
    if (!this.ctx.jobs.cancel(requestId)) return undefined;
    return this.finishing.get(requestId);
  }

  /** The screen a running or finishing job will end with. */
  whenFinished(requestId: string): Promise<Screen> | undefined {
    return this.finishing.get(requestId);
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
    const finished = done.then((outcome) => ctx.serial(record.id, () => this.finish(record.id, outcome)));
    this.finishing.set(record.id, finished);
    void finished.finally(() => {
      if (this.finishing.get(record.id) === finished) this.finishing.delete(record.id);
    });
    return {
      kind: 'progress',
      requestId: record.id,
      fileName: fileNameOf(job.object.key),
      progress: { bytes: 0, total: job.object.size, percent: 0, rate: 0, attempt: 1 },
    };
  }

  private async finish(requestId: string, outcome: JobOutcome): Promise<Screen> {
    const { ctx } = this;
    const record = (await ctx.deps.repository.get(requestId))!;
    const screen = outcome.ok ? await this.completed(record, outcome.result) : await this.failed(record, outcome.error);
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onFinished?.(snapshot, screen));
    return screen;
  }

  private async completed(record: RequestRecord, result: TransferResult): Promise<Screen> {
    const { ctx } = this;
    record.state = 'completed';
    record.result = { bytes: result.bytes, sha256: result.sha256, seconds: result.seconds, verification: result.verification, finalPath: result.finalPath };
    record.transfer = { ...record.transfer!, attempts: result.attempts };
    await ctx.save(record);
    ctx.vault.wipe(record.id);
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
    if (!canRetry) ctx.vault.wipe(record.id);
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
