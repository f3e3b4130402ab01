import { OPEN_STATES } from '../domain/requestRecord';
import type { ApprovalStep } from './approvalStep';
import { endRequest } from './requestEnding';
import { notes } from './ticketWording';
import type { TransferStep } from './transferStep';
import { SYSTEM, type WorkflowContext } from './workflowContext';

/**
 * The periodic sweep: requests left unfinished longer than the TTL (and failed ones past the retry
 * window) expire, with sessions and secrets wiped and tickets failed. A request `transferring` for
 * longer than the TTL with no job in this process (orphaned by a restart) is ended as INTERRUPTED
 * and its owner told. Returns how many ended. Each request is re-read under its own lock and left
 * alone if it changed since it was listed. A request awaiting approval is not idle: it expires
 * when its approval window (`approval.expiresAt`, FILEFERRY_APPROVAL_HOURS) has passed.
 */
export async function expireStale(ctx: WorkflowContext, transfers: TransferStep, approvals?: ApprovalStep): Promise<number> {
  const { repository, policy } = ctx.deps;
  const ttl = (policy.requestTtlMinutes ?? 60) * 60_000;
  const retry = (policy.retryWindowMinutes ?? 30) * 60_000;
  const now = ctx.now().getTime();
  const stale = [
    ...(await repository.listStale(OPEN_STATES.filter((s) => s !== 'awaiting-approval'), new Date(now - ttl))),
    ...(await repository.listStale(['failed'], new Date(now - retry))).filter((r) => r.failure?.retryable),
  ];
  const orphans = (await repository.listStale(['transferring'], new Date(now - ttl))).filter((r) => !transfers.isActive(r.id));
  for (const old of orphans) {
    await ctx.serial(old.id, async () => {
      const record = await repository.get(old.id);
      if (!record || record.revision !== old.revision || record.state !== 'transferring' || transfers.isActive(record.id)) return;
      const ending = await transfers.interrupt(record, SYSTEM.userId, 'expiry');
      const snapshot = { ...record };
      for (const l of ctx.listeners) {
        try {
          l.onFinished?.(snapshot, ending);
        } catch {
          // Listeners log their own errors.
        }
      }
    });
  }
  for (const old of stale) {
    await ctx.serial(old.id, async () => {
      const record = await repository.get(old.id);
      if (!record || record.revision !== old.revision) return;
      // A resumable interrupted transfer kept its partial file for Resume; nobody resumed it.
      if (record.failure?.code === 'INTERRUPTED' && record.transfer?.temporaryPath) await transfers.removeTemporary(record);
      await endRequest(ctx, record, {
        state: 'expired',
        audit: { type: 'request.expired', actor: SYSTEM.userId },
        tickets: { how: 'fail', note: notes.expired(record.id) },
        reason: 'request expired',
      });
    });
  }
  const unanswered = (await repository.listStale(['awaiting-approval'], new Date(now + 1000))).filter((r) => !r.approval || Date.parse(r.approval.expiresAt) <= now);
  for (const old of unanswered) {
    await ctx.serial(old.id, async () => {
      const record = await repository.get(old.id);
      if (!record || record.revision !== old.revision || record.state !== 'awaiting-approval') return;
      if (approvals && record.approval) return approvals.expire(record);
      await endRequest(ctx, record, { state: 'expired', audit: { type: 'request.expired', actor: SYSTEM.userId }, tickets: { how: 'fail', note: notes.expired(record.id) }, reason: 'request expired' });
    });
  }
  return stale.length + orphans.length + unanswered.length;
}
