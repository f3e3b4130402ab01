import assert from 'node:assert/strict';
import { RangeSet } from '../../src/transfer/rangeSet';

describe('RangeSet: the byte ranges a server acknowledged', () => {
  it('merges ranges that touch or overlap, in any order', () => {
    const r = new RangeSet();
    r.add(8, 12);
    r.add(0, 4);
    r.add(4, 6);
    r.add(10, 16);
    assert.deepEqual(r.toArray(), [{ start: 0, end: 6 }, { start: 8, end: 16 }]);
    r.add(5, 9);
    assert.deepEqual(r.toArray(), [{ start: 0, end: 16 }]);
    assert.equal(r.covered, 16);
  });

  it('ignores empty and inverted ranges', () => {
    const r = new RangeSet();
    r.add(5, 5);
    r.add(7, 3);
    assert.deepEqual(r.toArray(), []);
    assert.equal(r.prefix, 0);
  });

  it('reports the contiguous prefix only when byte 0 is covered', () => {
    const r = new RangeSet();
    r.add(4, 10);
    assert.equal(r.prefix, 0);
    r.add(0, 4);
    assert.equal(r.prefix, 10);
    r.add(12, 20);
    assert.equal(r.prefix, 10);
  });

  it('lists exactly the gaps inside a span', () => {
    const r = new RangeSet();
    r.add(2, 4);
    r.add(6, 8);
    r.add(10, 12);
    assert.deepEqual(r.gaps(0, 12), [{ start: 0, end: 2 }, { start: 4, end: 6 }, { start: 8, end: 10 }]);
    assert.deepEqual(r.gaps(3, 7), [{ start: 4, end: 6 }]);
    assert.deepEqual(r.gaps(6, 8), []);
    assert.deepEqual(r.gaps(11, 15), [{ start: 12, end: 15 }]);
    assert.deepEqual(new RangeSet().gaps(0, 5), [{ start: 0, end: 5 }]);
  });

  it('answers whether a span is fully covered', () => {
    const r = new RangeSet();
    r.add(0, 10);
    r.add(12, 14);
    assert.equal(r.has(0, 10), true);
    assert.equal(r.has(9, 11), false);
    assert.equal(r.has(12, 14), true);
    assert.equal(r.has(3, 3), true);
  });

  it('truncates at an offset', () => {
    const r = new RangeSet();
    r.add(0, 10);
    r.add(12, 20);
    r.truncate(14);
    assert.deepEqual(r.toArray(), [{ start: 0, end: 10 }, { start: 12, end: 14 }]);
    r.truncate(5);
    assert.deepEqual(r.toArray(), [{ start: 0, end: 5 }]);
  });

  it('agrees with a byte map under random adds', () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let round = 0; round < 50; round++) {
      const r = new RangeSet();
      const bytes = new Uint8Array(200);
      for (let i = 0; i < 12; i++) {
        const start = rand(200);
        const end = start + rand(40);
        r.add(start, Math.min(200, end));
        bytes.fill(1, start, Math.min(200, end));
      }
      const expected: { start: number; end: number }[] = [];
      for (let i = 0; i < 200; i++) {
        if (bytes[i]) continue;
        const last = expected[expected.length - 1];
        if (last && last.end === i) last.end++;
        else expected.push({ start: i, end: i + 1 });
      }
      assert.deepEqual(r.gaps(0, 200), expected);
      assert.equal(r.covered, bytes.reduce((n, b) => n + b, 0));
    }
  });
});
