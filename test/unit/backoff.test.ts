import { strict as assert } from 'node:assert';
import { backoffDelay, sleep } from '../../src/transfer/backoff';

describe('backoff', () => {
  it('doubles the window each attempt, caps it, and jitters within its upper half', () => {
    assert.equal(backoffDelay(1, 100, 10_000, () => 0), 50);
    assert.equal(backoffDelay(1, 100, 10_000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 10_000, () => 1), 400);
    assert.equal(backoffDelay(20, 100, 10_000, () => 1), 10_000);
    assert.equal(backoffDelay(20, 100, 10_000, () => 0), 5_000);
  });

  it('sleep rejects with the abort reason', async () => {
    const c = new AbortController();
    const pending = sleep(60_000, c.signal);
    c.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
  });
});
