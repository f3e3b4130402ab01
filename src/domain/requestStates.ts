import type { RequestRecord, RequestState } from './requestRecord';
import { WorkflowError } from './workflowError';

/**
 * Every move a request may make, and no other. Forward only, except that a failed transfer may
 * start again (Retry). Any open step may be cancelled or expire; a running transfer ends as
 * completed, failed or cancelled; a failed one left unretried expires. A protected request waits
 * in awaiting-approval: approved → transferring, rejected or withdrawn → cancelled (nothing was
 * sent, and a rejection is final: no Retry), no decision in time → expired, and failed when it was
 * approved but what the transfer needs died with a restart (a typed password, a cloud sign-in).
 */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  draft: ['ticketed', 'cancelled', 'expired'],
  // failed: the sign-in was refused, expired, or made by someone else (no retry: a new request is needed).
  ticketed: ['signed-in', 'failed', 'cancelled', 'expired'],
  'signed-in': ['source-chosen', 'cancelled', 'expired'],
  'source-chosen': ['destination-set', 'cancelled', 'expired'],
  'destination-set': ['awaiting-approval', 'transferring', 'cancelled', 'expired'],
  'awaiting-approval': ['transferring', 'failed', 'cancelled', 'expired'],
  transferring: ['completed', 'failed', 'cancelled'],
  failed: ['transferring', 'expired'],
  completed: [],
  cancelled: [],
  expired: [],
};

export function canMove(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Moves the record to `to`, or refuses with CARD_INACTIVE (nothing changes) when the state table
 * does not allow it: a bug or a race can never, say, complete a cancelled request.
 */
export function moveTo(record: RequestRecord, to: RequestState): void {
  if (!canMove(record.state, to)) throw new WorkflowError('CARD_INACTIVE', `Request ${record.id} cannot go from ${record.state} to ${to}.`);
  record.state = to;
}
