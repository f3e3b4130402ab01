/**
 * Why the workflow refused a card action. Every code reads to the user as "this card is no longer
 * active" (the bot shows nothing more specific, so a forged submit learns nothing); the code is for
 * logs, audit and tests.
 * - CARD_INACTIVE: no such request, or it is not at the step this action belongs to.
 * - NOT_YOURS: the request belongs to another user or tenant.
 * - NOT_LISTED: a container, folder, key or page this session never listed.
 * - NOT_ALLOWED: a destination or protocol the policy does not allow.
 * - SESSION_ENDED: the sign-in session is gone (auto-logout, expiry); a new request is needed.
 * - BAD_ACTION: an action without a verb or with malformed data.
 */
export type WorkflowErrorCode = 'CARD_INACTIVE' | 'NOT_YOURS' | 'NOT_LISTED' | 'NOT_ALLOWED' | 'SESSION_ENDED' | 'BAD_ACTION';

export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  constructor(
    readonly code: WorkflowErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isWorkflowError(e: unknown): e is WorkflowError {
  return e instanceof WorkflowError;
}

export const INACTIVE_MESSAGE = 'This card is no longer active. Type "transfer" to start a new request, or "status" to see your requests.';
