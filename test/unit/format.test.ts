import { strict as assert } from 'node:assert';
import { humanBytes, humanDate, humanDuration, humanRate } from '../../src/ui/format';

describe('format', () => {
  it('humanBytes uses binary units, one decimal below 100 of a unit and none above', () => {
    assert.equal(humanBytes(0), '0 B');
    assert.equal(humanBytes(512), '512 B');
    assert.equal(humanBytes(1023), '1023 B');
    assert.equal(humanBytes(1024), '1.0 KiB');
    assert.equal(humanBytes(1536), '1.5 KiB');
    assert.equal(humanBytes(412 * 1024 ** 2), '412 MiB');
    assert.equal(humanBytes(45.2 * 1024 ** 2), '45.2 MiB');
    assert.equal(humanBytes(1.5 * 1024 ** 3), '1.5 GiB');
    assert.equal(humanBytes(5 * 1024 ** 4), '5.0 TiB');
  });

  it('humanBytes moves to the next unit when rounding reaches 1024', () => {
    assert.equal(humanBytes(1024 ** 2 - 10), '1.0 MiB');
  });

  it('humanBytes refuses negative and non-finite counts', () => {
    assert.throws(() => humanBytes(-1), RangeError);
    assert.throws(() => humanBytes(Number.NaN), RangeError);
  });

  it('humanRate appends /s', () => {
    assert.equal(humanRate(0), '0 B/s');
    assert.equal(humanRate(45.2 * 1024 ** 2), '45.2 MiB/s');
  });

  it('humanDuration picks the two most useful units', () => {
    assert.equal(humanDuration(0), '0 s');
    assert.equal(humanDuration(4.24), '4.2 s');
    assert.equal(humanDuration(42.4), '42 s');
    assert.equal(humanDuration(185), '3 min 05 s');
    assert.equal(humanDuration(2 * 3600 + 5 * 60 + 9), '2 h 05 min');
    assert.equal(humanDuration(86_400 + 3 * 3600 + 59), '1 d 3 h');
  });

  it('humanDuration says "unknown" for an ETA that cannot be estimated, and throws on negatives', () => {
    assert.equal(humanDuration(Infinity), 'unknown');
    assert.equal(humanDuration(Number.NaN), 'unknown');
    assert.throws(() => humanDuration(-1), RangeError);
  });

  it('humanDate shows UTC to the minute from a Date, an ISO string or epoch ms', () => {
    assert.equal(humanDate(new Date('2024-05-01T14:03:59.900Z')), '2024-05-01 14:03 UTC');
    assert.equal(humanDate('2024-05-01T16:03:00+02:00'), '2024-05-01 14:03 UTC');
    assert.equal(humanDate(Date.UTC(2024, 0, 2, 3, 4)), '2024-01-02 03:04 UTC');
    assert.throws(() => humanDate('yesterday'), RangeError);
  });
});
