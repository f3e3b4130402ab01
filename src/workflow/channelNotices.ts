import { NotifyError } from '../domain/errors';
import type { RequestRecord } from '../domain/requestRecord';
import type { AuditChannelMessage, NoticeOutcome, NotifyResult } from '../ports/notifier';
import type { Ending } from './requestEnding';
import type { WorkflowContext } from './workflowContext';

/** Notifications still being delivered, per workflow (keyed by its deps, which live as long as it). */
const inFlight = new WeakMap<object, Set<Promise<void>>>();

/**
 * The audit channel's side of a request's end: the ending's message with what only the record
 * knows (both ticket links, the outcome), posted in the background. The requester's completion
 * card does not wait for it: a throttled or stalled channel may take its retries (a minute at
 * worst) without delaying anyone. `noticesSettled` waits for what is still on its way.
 */
export function announceEnding(ctx: WorkflowContext, record: RequestRecord, ending: Ending): void {
  if (!ending.notify) return;
  const pending = postNotice(ctx, withRecord(ending.notify, record, outcomeOf(ending))).catch(() => undefined);
  let set = inFlight.get(ctx.deps);
  if (!set) inFlight.set(ctx.deps, (set = new Set()));
  set.add(pending);
  void pending.then(() => set.delete(pending));
}

/** Resolves when every notification started so far has been delivered or recorded as failed (or after `timeoutMs`). */
export async function noticesSettled(ctx: WorkflowContext, timeoutMs = 60_000): Promise<void> {
  const pending = [...(inFlight.get(ctx.deps) ?? [])];
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([Promise.all(pending).then(() => undefined), limit]);
  clearTimeout(timer);
}

/**
 * Sends one notification to the audit channel. Delivered or not, the caller goes on: a failed
 * notification never fails a transfer or an approval. A failure is logged and audited
 * (`notify.failed`, with the error's code), so the audit team can see what its channel missed.
 */
export async function postNotice(ctx: WorkflowContext, message: AuditChannelMessage): Promise<void> {
  let result: NotifyResult;
  try {
    result = await ctx.deps.notifier.notify(message);
  } catch (e) {
    // The port says notify never throws; an adapter that does still must not break the caller.
    result = { delivered: false, attempts: 1, error: new NotifyError('INTERNAL', `The notifier failed unexpectedly (${(e as Error)?.name ?? 'error'}).`, { hint: 'Report this; the log has the request ID.' }) };
  }
  if (result.delivered) return;
  const { error, attempts } = result;
  try {
    ctx.log.error({ requestId: message.requestId, notification: message.title, code: error.code, attempts, error: error.message, hint: error.hint }, 'the audit channel notification could not be delivered');
  } catch {
    // A log that throws must not stop the audit record below.
  }
  await ctx.audit.record({
    type: 'notify.failed',
    actor: 'system',
    ...(message.requestId ? { requestId: message.requestId } : {}),
    details: { notification: message.title, code: error.code, retryable: error.retryable, attempts, message: error.message },
  });
}

function withRecord(message: AuditChannelMessage, record: RequestRecord, outcome: NoticeOutcome): AuditChannelMessage {
  const t = record.tickets;
  const links = message.links ?? (t ? [{ title: t.user.number, url: t.user.url }, { title: t.audit.number, url: t.audit.url }] : undefined);
  return { ...message, outcome: message.outcome ?? outcome, requestId: message.requestId ?? record.id, ...(links ? { links } : {}) };
}

function outcomeOf(ending: Ending): NoticeOutcome {
  if (ending.audit.type === 'transfer.interrupted') return 'interrupted';
  return ending.state;
}
