import type { AuditValue } from '../ports/auditLog';
import type { AuditChannelMessage } from '../ports/notifier';
import type { RequestRecord, RequestState } from '../domain/requestRecord';
import { moveTo } from '../domain/requestStates';
import type { TransferResult } from '../transfer/types';
import { announceEnding } from './channelNotices';
import { sealedCloseNote } from './chainHeadNote';
import type { WorkflowContext } from './workflowContext';

/** How a transfer ended, as data: what the bot turns into a card and push mode into an alert. */
export type TransferEnding =
  | { kind: 'completed'; result: TransferResult }
  | { kind: 'failed'; code: string; reason: string; hint: string; canRetry: boolean; cancelled: boolean; recorded: boolean };

/** Everything that differs between the ways a request ends; the order of the steps never does. */
export interface Ending {
  state: Extract<RequestState, 'completed' | 'failed' | 'cancelled' | 'expired'>;
  audit: { type: string; actor: string; details?: Record<string, AuditValue> };
  /** 'note' leaves the tickets open (a failure that may still be retried). */
  tickets: { how: 'resolve' | 'fail' | 'note'; note: string };
  /** A message for the audit channel, if this end deserves one. */
  notify?: AuditChannelMessage;
  /** Why the sign-in session ends (for the log). */
  reason: string;
  /** A retryable failure keeps what Retry needs for the retry window; any other end drops it now. */
  keepForRetry?: boolean;
  /** Go on when the record cannot be stored (the end of a transfer must always be told). */
  saveMayFail?: boolean;
}

/**
 * The one way a request ends: move and store the record, drop (or keep for Retry) its secrets,
 * forget its idempotency memo, end the sign-in, audit, write the tickets, notify. Only the store
 * step may throw (unless `saveMayFail`); every later step logs its own failure and goes on, so a
 * ticketing or notifier outage never leaves a request half-ended.
 */
export async function endRequest(ctx: WorkflowContext, record: RequestRecord, ending: Ending): Promise<void> {
  moveTo(record, ending.state);
  try {
    await ctx.save(record);
  } catch (e) {
    if (!ending.saveMayFail) throw e;
    ctx.log.error({ requestId: record.id, error: (e as Error)?.message ?? String(e) }, 'could not store the end of the request');
  }
  if (ending.keepForRetry) ctx.vault.release(record.id);
  else ctx.vault.wipe(record.id);
  await ctx.forget(record.id);
  await ctx.sessions.end(record.id, ending.reason);
  await ctx.audit.record({ requestId: record.id, ...ending.audit });
  await writeTickets(ctx, record, ending.tickets);
  // In the background: delivered or not, the request has ended (a failure is logged and audited).
  announceEnding(ctx, record, ending);
}

/**
 * Work notes on both tickets, then (unless 'note') closes both, queued behind the milestones in the
 * durable ticket outbox; waits while they go out, but never on an outage (they are then retried
 * in the background and survive a restart).
 */
async function writeTickets(ctx: WorkflowContext, record: RequestRecord, tickets: Ending['tickets']): Promise<void> {
  if (!record.tickets) return;
  // The audit team's ticket also keeps the chain head as it is now: a rewrite of the whole audit
  // store is then caught against a system the store's owner does not control.
  await ctx.notes.close(record, tickets.how, tickets.note, sealedCloseNote(tickets.note, ctx.audit.head));
  await ctx.notes.settled(record.id);
}
