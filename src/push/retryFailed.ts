import { StoreError } from '../domain/errors';
import type { AuditLog } from '../ports/auditLog';
import type { ClaimLedger } from './claimLedger';
import type { PushObjectRecord } from './pushRecord';

/**
 * `fileferry push retry`: a failed object goes back to the queue with a fresh retry budget; the
 * running push process (bot or `push run`) picks it up at its next scan. Its incident stays the
 * same one; a new final failure alerts again but opens no second incident.
 */
export async function retryFailed(ledger: ClaimLedger, audit: AuditLog, id: string, actor: string, now: Date = new Date()): Promise<PushObjectRecord> {
  const doc = await ledger.get(id);
  if (!doc) throw new StoreError('NOT_FOUND', `No pushed object has the id ${id}.`, { hint: 'Copy the id from `fileferry push status`.' });
  if (doc.body.state !== 'failed') {
    throw new StoreError('CONFLICT', `${doc.body.key} (rule ${doc.body.rule}) is ${doc.body.state}, not failed; only a failed object can be retried.`, { hint: 'Check `fileferry push status`.', retryable: false });
  }
  const updated = await ledger.update(doc, { state: 'stable', attempts: 0, alerted: false, failedAt: undefined });
  await ledger.enqueue(id, doc.body.rule, now);
  await audit.append({ type: 'push.retry', actor, requestId: id, details: { rule: doc.body.rule, key: doc.body.key } });
  return updated.body;
}
