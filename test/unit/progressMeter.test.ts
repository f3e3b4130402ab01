import assert from 'node:assert/strict';
import { ProgressMeter } from '../../src/transfer/progressMeter';
import type { TransferProgress } from '../../src/transfer/types';

describe('ProgressMeter', () => {
  it('throttles events from the byte counter to one per interval', () => {
    let t = 0;
    const seen: TransferProgress[] = [];
    const meter = new ProgressMeter(1000, (p) => seen.push(p), 100, 5000, () => t);
    try {
      meter.set(10);
      t = 50;
      meter.set(20);
      t = 120;
      meter.set(30);
      assert.deepEqual(seen.map((p) => p.bytes), [10, 30]);
    } finally {
      meter.stop();
    }
  });

  it('keeps reporting while the bytes stand still: the last count reaches the card and the rate falls', async () => {
    let t = 0;
    const seen: TransferProgress[] = [];
    let wake: (() => void) | undefined;
    const meter = new ProgressMeter(1000, (p) => { seen.push(p); wake?.(); }, 20, 5000, () => t);
    try {
      meter.set(0);
      t = 10;
      meter.set(400); // inside the interval: no event from the counter
      assert.deepEqual(seen.map((p) => p.bytes), [0]);
      t = 1000;
      await new Promise<void>((resolve) => (wake = resolve));
      assert.equal(seen.at(-1)!.bytes, 400, 'the ticker reported the bytes the counter held back');
      const firstRate = seen.at(-1)!.rate;
      t = 3000;
      await new Promise<void>((resolve) => (wake = resolve));
      assert.ok(seen.at(-1)!.rate < firstRate, 'a stall shows as a falling rate');
    } finally {
      meter.stop();
    }
  });

  it('stops ticking once stopped', async () => {
    let t = 0;
    let events = 0;
    const meter = new ProgressMeter(1000, () => events++, 5, 5000, () => t);
    meter.set(1);
    meter.stop();
    const before = events;
    t = 1000;
    // Wait on a timer that outlasts several ticker intervals; nothing may arrive.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(events, before);
  });
});
