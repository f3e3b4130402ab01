import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { ResumableHash } from '../../src/transfer/resumableHash';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('ResumableHash', () => {
  const body = randomBytes(1000);

  it('hashes like a plain SHA-256 across interval boundaries', () => {
    const h = new ResumableHash(['sha256', 'md5'], 64, 4);
    for (let i = 0; i < body.length; i += 37) h.update(body.subarray(i, i + 37));
    const d = h.digest();
    assert.equal(d.sha256, sha(body));
    assert.equal(d.md5, createHash('md5').update(body).digest('hex'));
  });

  for (const offset of [0, 63, 64, 500, 899, 900]) {
    it(`rewinds to a snapshot at or before ${offset} and re-feeding gives the same digest`, () => {
      const h = new ResumableHash(['sha256'], 64, 100);
      h.update(body.subarray(0, 900));
      const from = h.rewind(offset);
      assert.ok(from <= offset && offset - from < 64, `rewound to ${from}`);
      h.update(body.subarray(from));
      assert.equal(h.digest().sha256, sha(body));
    });
  }

  it('falls back to the start when the snapshot it needs was dropped', () => {
    const h = new ResumableHash(['sha256'], 64, 2);
    h.update(body);
    assert.equal(h.rewind(100), 0);
    h.update(body);
    assert.equal(h.digest().sha256, sha(body));
  });
});
