import { ENDED_STATES, type Actor, type RequestRecord, type RequestState } from '../domain/requestRecord';
import { WorkflowError, type WorkflowErrorCode } from '../domain/workflowError';
import type { RequestRepository } from '../ports/requestRepository';
import type { WorkflowLog } from '../ports/workflowLog';
import type { ActionGate } from './actionGate';
import type { AuditTrail } from './auditTrail';
import type { ActionOutcome } from './screens';

/** How long a repeat of the action that ended a request is still answered from the memo. */
const ENDED_REPLAY_MS = 60_000;

/** One card action as the guard sees it. */
export interface GuardedAction {
  verb: string;
  /** The steps the action belongs to; at any other step it is refused (CARD_INACTIVE). */
  states: readonly RequestState[];
  /** Side-effecting actions are answered from the memo when repeated at the same step. */
  idempotent: boolean;
}

/**
 * The guard every card action passes: one at a time per request, the owner check (same user and
 * tenant), idempotent replay, the step check, then the step itself. Every refusal is a
 * WorkflowError (the bot shows only "this card is no longer active") and is audited.
 */
export class ActionGuard {
  constructor(
    private readonly gate: ActionGate<ActionOutcome>,
    private readonly repository: RequestRepository,
    private readonly audit: AuditTrail,
    private readonly log: WorkflowLog,
  ) {}

  act(actor: Actor, requestId: string, action: GuardedAction, step: (record: RequestRecord) => Promise<ActionOutcome>): Promise<ActionOutcome> {
    const { verb, states, idempotent } = action;
    return this.gate.serial(String(requestId), async () => {
      const record = await this.load(actor, requestId, verb);
      if (idempotent) {
        const replay = await this.gate.recall(record.id, verb, record.revision);
        if (replay) {
          this.log.info({ requestId, verb }, 'repeated action answered from the idempotency memo');
          return { ...replay, replayed: true };
        }
      }
      if (!states.includes(record.state)) return this.refuse('CARD_INACTIVE', actor, requestId, verb, `the request is ${record.state}`);
      const before = record.revision;
      try {
        const outcome = await step(record);
        if (idempotent && record.revision !== before) await this.gate.remember(record.id, verb, record.revision, outcome);
        // The request has ended: keep the memo only long enough to answer a repeat of this click.
        if (ENDED_STATES.includes(record.state)) await this.gate.forget(record.id, ENDED_REPLAY_MS);
        return outcome;
      } catch (e) {
        if (e instanceof WorkflowError) return this.refuse(e.code, actor, requestId, verb, e.message);
        throw e;
      }
    });
  }

  /** Loads the record and checks it belongs to `actor` (same user and tenant). */
  async load(actor: Actor, requestId: string, verb: string): Promise<RequestRecord> {
    const record = typeof requestId === 'string' && requestId ? await this.repository.get(requestId) : undefined;
    if (!record) return this.refuse('CARD_INACTIVE', actor, requestId, verb, 'no such request');
    if (record.owner.userId !== actor.userId || (record.owner.tenantId ?? '') !== (actor.tenantId ?? '')) {
      return this.refuse('NOT_YOURS', actor, requestId, verb, 'the request belongs to another user');
    }
    return record;
  }

  private async refuse(code: WorkflowErrorCode, actor: Actor, requestId: string, verb: string, why: string): Promise<never> {
    this.log.warn({ requestId: String(requestId), verb, refusal: code, why }, 'card action refused');
    await this.audit.record({ type: 'action.refused', requestId: String(requestId).slice(0, 40), actor: actor.userId, details: { verb, code, why } });
    throw new WorkflowError(code, why);
  }
}

/** A string from card data; anything else (forged JSON) is a BAD_ACTION. */
export function cardString(value: unknown, what: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '') || value.length > 2048) {
    throw new WorkflowError('BAD_ACTION', `The card sent no usable ${what}.`);
  }
  return value;
}
