import assert from 'node:assert/strict';
import type { RequestRecord, RequestState } from '../../src/domain/requestRecord';
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

  it('moveTo refuses a disallowed move with CARD_INACTIVE and leaves the record as it was', () => {
    const record = { id: 'FF-TEST0001', state: 'cancelled' } as RequestRecord;
    assert.throws(() => moveTo(record, 'transferring'), (e: unknown) => e instanceof WorkflowError && e.code === 'CARD_INACTIVE' && /cancelled to transferring/.test(e.message));
    assert.equal(record.state, 'cancelled');
    moveTo({ ...record, state: 'draft' }, 'ticketed');
  });
});
