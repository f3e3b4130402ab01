import assert from 'node:assert/strict';
import { OPEN_STATES, type RequestRecord, type RequestState } from '../../src/domain/requestRecord';
import { TRANSITIONS, canMove, moveTo } from '../../src/domain/requestStates';
import { WorkflowError } from '../../src/domain/workflowError';

const ALL = Object.keys(TRANSITIONS) as RequestState[];

describe('request state table', () => {
  it('moves forward through the happy path, and Retry is the only way back', () => {
    const path: RequestState[] = ['draft', 'ticketed', 'signed-in', 'source-chosen', 'destination-set', 'transferring', 'failed', 'transferring', 'completed'];
    for (let i = 1; i < path.length; i++) assert.ok(canMove(path[i - 1]!, path[i]!), `${path[i - 1]} → ${path[i]}`);
    for (const from of ALL) {
      for (const to of TRANSITIONS[from]) {
        const backwards = ALL.indexOf(to) < ALL.indexOf(from);
        if (backwards) assert.deepEqual([from, to], ['failed', 'transferring'], `${from} → ${to} goes back`);
      }
    }
  });

  it('final states go nowhere, and nothing skips a step', () => {
    for (const end of ['completed', 'cancelled', 'expired'] as const) assert.deepEqual(TRANSITIONS[end], []);
    assert.equal(canMove('draft', 'transferring'), false);
    assert.equal(canMove('signed-in', 'destination-set'), false);
    assert.equal(canMove('transferring', 'expired'), false, 'a running transfer ends by itself, never by expiry');
  });

  it('a protected request waits for approval between destination-set and transferring, and leaves it only by a decision, withdrawal or expiry', () => {
    for (const [from, to] of [['destination-set', 'awaiting-approval'], ['awaiting-approval', 'transferring'], ['awaiting-approval', 'cancelled'], ['awaiting-approval', 'expired'], ['awaiting-approval', 'failed']] as const) {
      assert.ok(canMove(from, to), `${from} → ${to}`);
    }
    // Nothing reaches it but a confirmed destination, and it never goes back to an earlier step or straight to completed.
    for (const from of ALL) if (from !== 'destination-set') assert.equal(canMove(from, 'awaiting-approval'), false, `${from} → awaiting-approval`);
    for (const to of ['draft', 'ticketed', 'signed-in', 'source-chosen', 'destination-set', 'completed'] as const) assert.equal(canMove('awaiting-approval', to), false, `awaiting-approval → ${to}`);
    assert.ok(OPEN_STATES.includes('awaiting-approval'), 'cancel and status treat a waiting request as open');
  });

  it('moveTo refuses a disallowed move with CARD_INACTIVE and leaves the record as it was', () => {
    const record = { id: 'FF-TEST0001', state: 'cancelled' } as RequestRecord;
    assert.throws(() => moveTo(record, 'transferring'), (e: unknown) => e instanceof WorkflowError && e.code === 'CARD_INACTIVE' && /cancelled to transferring/.test(e.message));
    assert.equal(record.state, 'cancelled');
    moveTo({ ...record, state: 'draft' }, 'ticketed');
  });
});
