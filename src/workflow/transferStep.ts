import { SourceError, type FerryError } from '../domain/errors';
import { humanBytes } from '../domain/byteSize';
import { fileNameOf, type Actor, type RequestRecord } from '../domain/requestRecord';
import { canMove, moveTo } from '../domain/requestStates';
import { TYPED_PASSWORD } from '../domain/secretRef';
import { pinObject, unpinObject, type TransferJobSpec } from '../domain/transferJobSpec';
import type { Destination } from '../ports/destination';
import { WorkflowError } from '../domain/workflowError';
import type { TransferResult } from '../transfer/types';
import { confirmScreen } from './destinationStep';
import { needsTypedSecret } from './heldSecrets';

const AUDIT_DOWN = 'The audit log cannot be written right now, so the transfer has not started and nothing was sent. Try again in a minute.';
import { endRequest, type TransferEnding } from './requestEnding';
import type { Screen } from './screens';
import { objectKey } from './sessions';
import { singleObjectSource } from './singleObjectSource';
import { notes } from './ticketWording';
import type { JobHoldings, JobOutcome } from './transferJobs';
import type { WorkflowContext } from './workflowContext';

/**
 * Confirm, cancel, retry and the end of a transfer. On confirm the request's TransferJobSpec is
 * built and stored on the record, the job starts in the background holding only a single-object
 * reader and any password typed on the card, and the sign-in session is scheduled to end
 * `autoLogoutSeconds` later. Every end goes through `endRequest`, then the listeners are told.
 */
export class TransferStep {
  /** requestId → the promise of the recorded ending, while a job runs or finishes. */
  private readonly finishing = new Map<string, Promise<TransferEnding>>();
  /** Requests whose running job was cancelled and is still stopping or finishing. */
  private readonly cancelling = new Set<string>();

  constructor(private readonly ctx: WorkflowContext) {}

  async confirm(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<Screen> {
    const prepared = await this.prepare(record, actor, cardActivityId);
    return 'screen' in prepared ? prepared.screen : this.launch(record, actor, prepared.job, prepared.holdings);
  }

  /**
   * The confirm step up to the start: audited, the job built from the live session and stored on
   * the record, the holdings in the vault and the sign-in scheduled to end. Shared by a plain
   * confirm and a confirm that waits for approval (which launches the job once it is approved).
   * `screen` when it cannot go on (the audit log is down): nothing changed, Confirm works again later.
   */
  async prepare(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<{ job: TransferJobSpec; holdings: JobHoldings } | { screen: Screen }> {
    // A transfer nobody can audit must not begin: the card says so and Confirm works again later.
    const audited = await this.ctx.audit.recordNow({ type: 'transfer.confirmed', requestId: record.id, actor: actor.userId });
    if (!audited) return { screen: confirmScreen(record, AUDIT_DOWN) };
    const session = this.ctx.sessions.get(record.id);
    const source = record.source!;
    const object = session?.objects.get(objectKey(source.container, source.key));
    if (!session || !object) throw new WorkflowError('SESSION_ENDED', `The sign-in session of ${record.id} has ended.`);
    const stored = record.destination!;
    const password = this.ctx.vault.get(record.id)?.password;
    const job: TransferJobSpec = {
      requestId: record.id,
      source: { scheme: session.identity.source.scheme, container: source.container, object: pinObject(object), ...(record.form ? { region: record.form.region } : {}) },
      destination: this.ctx.choices.spec(stored.choice, stored.hostKeyFingerprint),
      remotePath: stored.remotePath,
      overwrite: stored.overwrite,
    };
    const holdings: JobHoldings = {
      source: singleObjectSource(session.identity.source, source.container, object),
      ...(password !== undefined ? { secrets: new Map([[TYPED_PASSWORD, password]]) } : {}),
    };
    record.job = job;
    // From here the password lives in the job's holdings only (kept for Retry), not on its own.
    this.ctx.vault.patch(record.id, { password: undefined, holdings });
    if (cardActivityId) record.cardActivityId = cardActivityId;
    this.ctx.sessions.endAfter(record.id, this.ctx.deps.policy.autoLogoutSeconds, 'auto-logout after the transfer started');
    return { job, holdings };
  }

  /** Starts a prepared job (a plain confirm, or an approval granted later). */
  launch(record: RequestRecord, actor: Actor, job: TransferJobSpec, holdings: JobHoldings): Promise<Screen> {
    return this.start(record, actor, job, holdings);
  }

  /** Retry after a failure in this process, or Resume after a restart (see `interrupt`). */
  async retry(record: RequestRecord, actor: Actor, cardActivityId?: string): Promise<Screen> {
    const holdings = this.ctx.vault.get(record.id)?.holdings ?? this.resumeHoldings(record);
    if (!holdings || !record.job || !record.failure?.retryable) throw new WorkflowError('SESSION_ENDED', `The retry window of ${record.id} has passed.`);
    if (!(await this.ctx.audit.recordNow({ type: 'transfer.retry-requested', requestId: record.id, actor: actor.userId }))) {
      return { kind: 'failed', requestId: record.id, fileName: fileNameOf(record.source?.key), code: 'SERVER_ERROR', reason: AUDIT_DOWN, hint: 'Press Retry again in a minute.', canRetry: true };
    }
    if (cardActivityId) record.cardActivityId = cardActivityId;
    record.failure = undefined;
    return this.start(record, actor, record.job, holdings);
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

  /** Resolves once every transfer that ended has been recorded (shutdown waits for it before the stores close). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.finishing.values()]);
  }

  /** True while the request has a job running or finishing in this process. */
  isActive(requestId: string): boolean {
    return this.ctx.jobs.isRunning(requestId) || this.finishing.has(requestId);
  }

  /**
   * Ends a request left `transferring` with no job in this process (FileFerry restarted while it
   * ran): marks it failed with INTERRUPTED and says what to check. It can be resumed (Resume
   * continues into the temporary file from the bytes the server holds) when the job needs nothing
   * the dead process held: a saved destination (secrets by reference, not typed) and a source the
   * service may read itself (not a sign-in that died with the process), and the user did not ask to
   * cancel. Otherwise its temporary file is removed where the spec allows, or named on the card.
   */
  async interrupt(record: RequestRecord, actorId: string, detectedBy: 'cancel' | 'expiry' | 'restart'): Promise<TransferEnding> {
    const name = fileNameOf(record.source?.key);
    const where = record.destination?.label ?? 'the destination';
    const job = record.job;
    const typed = !!job && job.destination.protocol !== 'local' && needsTypedSecret([job.destination.passwordRef]);
    const resumable = detectedBy !== 'cancel' && !typed && !!this.resumeHoldings(record, true);
    const temporary = record.transfer?.temporaryPath;
    const leftover = resumable ? 'kept' : temporary && job && !typed ? await this.removeTemporary(record) : temporary ? 'left' : 'none';
    const failure = {
      code: 'INTERRUPTED' as const,
      message: `The transfer of ${name} (request ${record.id}) is no longer running: it was interrupted, most likely by a restart of FileFerry.`,
      hint: resumable
        ? `Press Retry to resume: it continues from the bytes ${where} already holds. Or type "transfer" to start a new request.`
        : `Check whether ${name} arrived on ${where}; if it did not, type "transfer" to start a new request.` +
          (typed ? ' The password typed on the card was held only by the FileFerry process that stopped, so this transfer cannot be resumed.' : '') +
          (leftover === 'left' ? ` A partial file may remain there as ${temporary}; it is never the final name and can be deleted.` : ''),
      retryable: resumable,
    };
    record.failure = failure;
    await endRequest(this.ctx, record, {
      state: 'failed',
      audit: { type: 'transfer.interrupted', actor: actorId, details: { code: failure.code, detectedBy, resumable, temporaryFile: leftover } },
      tickets: { how: resumable ? 'note' : 'fail', note: notes.interrupted(name, detectedBy) },
      notify: { title: `Transfer interrupted: ${name}`, text: failure.message, requestId: record.id, facts: { code: failure.code } },
      reason: 'transfer interrupted',
      keepForRetry: resumable,
    });
    return { kind: 'failed', code: failure.code, reason: failure.message, hint: failure.hint, canRetry: resumable, cancelled: false, recorded: true };
  }

  /**
   * Removes the temporary file a dead process left, best effort and bounded in time; reports what
   * happened for the audit log. Only for jobs whose secrets are references (this process can connect).
   */
  async removeTemporary(record: RequestRecord): Promise<'removed' | 'left'> {
    const { job, transfer } = record;
    if (!job || !transfer?.temporaryPath) return 'left';
    let session: Awaited<ReturnType<Destination['connect']>> | undefined;
    try {
      const timeout = AbortSignal.timeout(15_000);
      session = await this.ctx.deps.destinations.open(job.destination, { secrets: this.ctx.deps.secrets }).connect(timeout);
      await session.remove(transfer.temporaryPath, timeout);
      return 'removed';
    } catch (e) {
      this.ctx.log.warn({ requestId: record.id, error: (e as Error)?.message ?? String(e) }, 'could not remove the temporary file an interrupted transfer left');
      return 'left';
    } finally {
      await session?.close();
    }
  }

  /** What a Resume after a restart holds: a reader the service may use itself, into the file left behind. */
  private resumeHoldings(record: RequestRecord, evenIfNotRetryable = false): JobHoldings | undefined {
    const { job } = record;
    if (!job || (!evenIfNotRetryable && record.failure?.code !== 'INTERRUPTED')) return undefined;
    const source = this.ctx.deps.serviceSource?.(job.source);
    if (!source) return undefined;
    const object = unpinObject(job.source.object);
    return {
      source: singleObjectSource(source, job.source.container, object),
      ...(record.transfer?.temporaryPath ? { resumeTemporaryPath: record.transfer.temporaryPath } : {}),
    };
  }

  /** Stores where the engine writes, as soon as it picks the name, so a later process can find the file. */
  private rememberTemporary(requestId: string, temporaryPath: string): void {
    const { ctx } = this;
    void ctx
      .serial(requestId, async () => {
        const record = await ctx.deps.repository.get(requestId);
        if (!record || record.state !== 'transferring' || !record.transfer) return;
        record.transfer = { ...record.transfer, temporaryPath };
        // Not a step of the request: the revision (and so the idempotency memo) stays as it is.
        await ctx.deps.repository.put(record);
      })
      .catch((e: unknown) => ctx.log.error({ requestId, error: (e as Error)?.message ?? String(e) }, 'could not store the temporary path'));
  }

  private async start(record: RequestRecord, actor: Actor, job: TransferJobSpec, holdings: JobHoldings): Promise<Screen> {
    const { ctx } = this;
    moveTo(record, 'transferring');
    record.transfer = { attempts: (record.transfer?.attempts ?? 0) + 1, startedAt: ctx.now().toISOString() };
    await ctx.save(record);
    await ctx.audit.record({
      type: 'transfer.started',
      requestId: record.id,
      actor: actor.userId,
      details: { source: `${job.source.container}/${job.source.object.key}`, size: job.source.object.size, destination: record.destination?.label ?? null, remotePath: job.remotePath },
    });
    ctx.notes.add(record, notes.started(fileNameOf(job.source.object.key), job.source, record.destination?.label ?? 'the destination', job.remotePath, record.transfer.attempts));
    // What a Retry needs must outlive the transfer, however long it runs.
    ctx.vault.hold(record.id);
    this.cancelling.delete(record.id);
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onStarted?.(snapshot));
    /** Bytes handed to the destination so far: what an expired sign-in's message reports. */
    let sent = 0;
    const done = ctx.jobs.start(job, holdings, {
      onProgress: (p) => {
        sent = p.bytes;
        ctx.listeners.forEach((l) => safely(() => l.onProgress?.(snapshot, p)));
      },
      onEvent: (event) => {
        if (event.type === 'started') this.rememberTemporary(record.id, event.temporaryPath);
        if (event.type === 'resumed') ctx.notes.add(snapshot, notes.resumed(fileNameOf(job.source.object.key), event.fromByte, event.attempt));
        if (event.type === 'attempt-failed' || event.type === 'resumed' || event.type === 'verified') {
          const { type, ...details } = event;
          void ctx.audit.record({ type: `transfer.${type}`, requestId: record.id, actor: 'system', details: details as Record<string, string | number> });
        }
      },
    });
    const finished = done.then((outcome) => ctx.serial(record.id, () => this.finish(record.id, outcome, snapshot, sent)));
    this.finishing.set(record.id, finished);
    // `finish` settles with an ending even when recording fails; this catch is the last guard, so a
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
      fileName: fileNameOf(job.source.object.key),
      progress: { bytes: 0, total: job.source.object.size, percent: 0, rate: 0, attempt: 1 },
    };
  }

  /**
   * Records the job's outcome and tells the listeners. Never rejects: when recording fails (the
   * repository is down, the record is gone), the request is still ended as failed as far as
   * possible, and the listeners are told, so the user hears and every other transfer goes on.
   */
  private async finish(requestId: string, outcome: JobOutcome, started: RequestRecord, sent = 0): Promise<TransferEnding> {
    const { ctx } = this;
    let loaded: RequestRecord | undefined;
    let record: RequestRecord;
    let ending: TransferEnding;
    try {
      loaded = await ctx.deps.repository.get(requestId);
      if (!loaded) throw new Error(`request ${requestId} is no longer in the repository`);
      record = { ...loaded };
      ending = outcome.ok ? await this.completed(record, outcome.result) : await this.failed(record, sessionWording(outcome.error, sent, record.source?.size));
    } catch (e) {
      ctx.log.error({ requestId, error: (e as Error)?.message ?? String(e) }, 'could not record the end of the transfer; marking the request failed');
      record = { ...(loaded ?? started) };
      ending = await this.unrecorded(record, outcome);
    }
    const snapshot = { ...record };
    for (const l of ctx.listeners) safely(() => l.onFinished?.(snapshot, ending));
    return ending;
  }

  private async completed(record: RequestRecord, result: TransferResult): Promise<TransferEnding> {
    const name = fileNameOf(record.source?.key);
    record.result = { bytes: result.bytes, sha256: result.sha256, seconds: result.seconds, verification: result.verification, finalPath: result.finalPath };
    record.transfer = { ...record.transfer!, attempts: result.attempts };
    const note = notes.completed(name, record.destination?.label, result);
    await endRequest(this.ctx, record, {
      state: 'completed',
      audit: {
        type: 'transfer.completed',
        actor: 'system',
        details: { bytes: result.bytes, sha256: result.sha256, seconds: result.seconds, attempts: result.attempts, verification: result.verification, finalPath: result.finalPath, destination: record.destination?.label ?? null },
      },
      tickets: { how: 'resolve', note },
      notify: {
        title: `Transfer completed: ${name}`,
        text: note,
        requestId: record.id,
        facts: { requester: record.owner.name, userTicket: record.tickets?.user.number ?? '', auditTicket: record.tickets?.audit.number ?? '' },
      },
      reason: 'transfer completed',
    });
    return { kind: 'completed', result };
  }

  private async failed(record: RequestRecord, error: FerryError): Promise<TransferEnding> {
    const name = fileNameOf(record.source?.key);
    const cancelled = error.code === 'CANCELLED';
    const canRetry = !cancelled && error.retryable && !!this.ctx.vault.get(record.id)?.holdings;
    record.failure = { code: error.code, message: error.message, hint: error.hint, retryable: canRetry };
    const note = cancelled ? notes.transferCancelled(name) : notes.failed(name, error.code, error.message, error.hint);
    await endRequest(this.ctx, record, {
      state: cancelled ? 'cancelled' : 'failed',
      audit: { type: cancelled ? 'transfer.cancelled' : 'transfer.failed', actor: 'system', details: { code: error.code, message: error.message, retryable: canRetry } },
      tickets: { how: canRetry ? 'note' : 'fail', note },
      notify: { title: `Transfer ${cancelled ? 'cancelled' : 'failed'}: ${name}`, text: note, requestId: record.id, facts: { code: error.code } },
      reason: cancelled ? 'transfer cancelled' : 'transfer failed',
      keepForRetry: canRetry,
    });
    return {
      kind: 'failed',
      code: error.code,
      reason: cancelled ? 'The transfer was cancelled; nothing was left on the destination.' : error.message,
      hint: cancelled ? 'Type "transfer" to start a new request when you are ready.' : error.hint || "Try again later, or contact the destination's owner.",
      canRetry,
      cancelled,
      recorded: true,
    };
  }

  /** The end of a job whose outcome could not be recorded: failed, best effort, never throws. */
  private async unrecorded(record: RequestRecord, outcome: JobOutcome): Promise<TransferEnding> {
    const name = fileNameOf(record.source?.key);
    const where = record.destination?.label ?? 'the destination';
    const failure = outcome.ok
      ? {
          code: 'INTERNAL' as const,
          message: `${name} was sent to ${where}, but FileFerry could not record the result.`,
          hint: `Check ${name} on ${where} before sending it again, and report this with request ID ${record.id}; the log has the detail.`,
        }
      : {
          code: outcome.error.code,
          message: `${outcome.error.message} (FileFerry could not record this failure.)`,
          hint: outcome.error.hint || `Report this with request ID ${record.id}; the log has the detail.`,
        };
    const cancelled = !outcome.ok && outcome.error.code === 'CANCELLED';
    const state = cancelled ? 'cancelled' : 'failed';
    const ending: TransferEnding = { kind: 'failed', code: failure.code, reason: failure.message, hint: failure.hint, canRetry: false, cancelled, recorded: false };
    if (!canMove(record.state, state)) {
      // Another process (or the expiry sweep after a restart) has already ended this request.
      this.ctx.log.warn({ requestId: record.id, state: record.state }, 'the request was already ended elsewhere; its end is not recorded again');
      return ending;
    }
    record.failure = { ...failure, retryable: false };
    await endRequest(this.ctx, record, {
      state,
      audit: { type: 'transfer.failed', actor: 'system', details: { code: failure.code, message: failure.message, retryable: false, recorded: false } },
      tickets: { how: 'fail', note: notes.unrecorded(name, failure.message) },
      notify: { title: `Transfer failed: ${name}`, text: failure.message, requestId: record.id, facts: { code: failure.code } },
      reason: 'transfer failed',
      saveMayFail: true,
    });
    return ending;
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's failure never affects the transfer; listeners log their own errors.
  }
}

/**
 * An expired sign-in said the way the requester needs it: how far the file got, and that only a new
 * request (a new sign-in) can finish it. Every other error is kept as it is.
 */
function sessionWording(error: FerryError, sent: number, size: number | undefined): FerryError {
  if (error.code !== 'SESSION_EXPIRED') return error;
  const of = size === undefined ? '' : ` of ${humanBytes(size)}`;
  return new SourceError('SESSION_EXPIRED', `Your sign-in expired after ${humanBytes(sent)}${of} had been sent; start a new request to finish.`, {
    hint: error.hint || 'Start a new request and sign in again to send the file.',
    cause: error,
  });
}
