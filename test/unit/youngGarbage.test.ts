import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalSource } from '../../src/adapters/source/localSource';
import { readRanges } from '../../src/transfer/rangedReader';
import { COLLECT_EVERY, countRead } from '../../src/transfer/youngGarbage';
import { tempDir } from '../support/tmp';

type Gc = (options: { type: 'minor' }) => void;
const slot = globalThis as { gc?: Gc };

/**
 * FileFerry's processes run with --expose-gc (scripts/nodeFlags.js) so that transfers scavenge
 * every few MiB read; mocha's process does not, so each test installs a recording `gc`.
 */
describe('youngGarbage: a scavenge every few MiB a transfer reads', () => {
  let saved: Gc | undefined;
  let calls: { type: string }[];

  beforeEach(() => {
    saved = slot.gc;
    calls = [];
    slot.gc = (options) => void calls.push(options);
    countRead(COLLECT_EVERY); // starts each test from an empty count
    calls = [];
  });
  afterEach(() => {
    if (saved) slot.gc = saved;
    else delete slot.gc;
  });

  it('asks for a minor collection once per COLLECT_EVERY bytes, not before', () => {
    for (let read = 0; read < COLLECT_EVERY - 1024; read += 1024) countRead(1024);
    assert.equal(calls.length, 0);
    countRead(1024);
    assert.deepEqual(calls, [{ type: 'minor' }]);
    countRead(2 * COLLECT_EVERY);
    assert.equal(calls.length, 2);
  });

  it('does nothing where the runtime does not expose gc', () => {
    delete slot.gc;
    assert.doesNotThrow(() => countRead(3 * COLLECT_EVERY));
  });

  it('counts what readRanges hands on from a real source', async () => {
    const dir = await tempDir('young-garbage');
    try {
      const body = randomBytes(2 * COLLECT_EVERY + 5);
      await mkdir(join(dir.path, 'box'));
      await writeFile(join(dir.path, 'box', 'body.bin'), body);
      const source = new LocalSource(dir.path);
      const object = await source.stat('box', 'body.bin');
      let read = 0;
      for await (const chunk of readRanges(source, 'box', object, 0, body.length, { partSize: COLLECT_EVERY, concurrency: 2, readAhead: 0 })) read += chunk.length;
      assert.equal(read, body.length);
      assert.equal(calls.length, 2);
    } finally {
      await dir.remove();
    }
  });
});
