import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LocalSource } from '../../src/adapters/source/localSource';
import type { ByteRange, ObjectInfo } from '../../src/ports/storageSource';
import { readRanges } from '../../src/transfer/rangedReader';
import { tempDir } from '../support/tmp';

const KiB = 1024;

/** A real local folder source that records, for every ranged read, how far the consumer had got when it started. */
class WatchedSource extends LocalSource {
  consumed = 0;
  open = 0;
  mostOpen = 0;
  readonly starts: { range: ByteRange; consumedAtStart: number }[] = [];

  override async read(container: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable> {
    this.starts.push({ range, consumedAtStart: this.consumed });
    this.open++;
    this.mostOpen = Math.max(this.mostOpen, this.open);
    const stream = await super.read(container, object, range, signal);
    stream.once('close', () => this.open--);
    return stream;
  }
}

describe('readRanges', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const body = randomBytes(4096 * KiB + 7);

  before(async () => {
    dir = await tempDir('ranged-reader');
    await mkdir(join(dir.path, 'box'));
    await writeFile(join(dir.path, 'box', 'body.bin'), body);
  });
  after(() => dir.remove());

  async function consume(source: WatchedSource, start: number, options: { partSize: number; concurrency: number; readAhead: number }): Promise<Buffer> {
    const object = await source.stat('box', 'body.bin');
    const chunks: Buffer[] = [];
    for await (const chunk of readRanges(source, 'box', object, start, object.size, options)) {
      chunks.push(chunk);
      source.consumed += chunk.length;
    }
    return Buffer.concat(chunks);
  }

  it('hands on every byte in order, whatever the part size, concurrency and read-ahead', async () => {
    for (const options of [
      { partSize: 64 * KiB, concurrency: 1, readAhead: 0 },
      { partSize: 100 * KiB + 3, concurrency: 3, readAhead: 1024 * KiB },
      { partSize: 2048 * KiB, concurrency: 2, readAhead: 16 * KiB },
    ]) {
      const out = await consume(new WatchedSource(dir.path), 12_345, options);
      assert.equal(createHash('sha256').update(out).digest('hex'), createHash('sha256').update(body.subarray(12_345)).digest('hex'), JSON.stringify(options));
    }
  });

  it('starts the next part only once the consumer is within readAhead of it', async () => {
    const source = new WatchedSource(dir.path);
    const partSize = 1024 * KiB;
    const readAhead = 300 * KiB;
    // LocalSource hands on 256 KiB chunks; the consumer counts a chunk only after readRanges has
    // handed it on, and readRanges may launch the next part just before that.
    const chunk = 256 * KiB;
    await consume(source, 0, { partSize, concurrency: 2, readAhead });
    assert.deepEqual(source.starts.map((s) => s.range.start), [0, 1, 2, 3, 4].map((n) => n * partSize));
    for (const { range, consumedAtStart } of source.starts.slice(1)) {
      assert.ok(consumedAtStart + chunk >= range.start - readAhead, `part at ${range.start} started early, when ${consumedAtStart} bytes were consumed`);
      assert.ok(consumedAtStart < range.start, `part at ${range.start} started late, at ${consumedAtStart}: its first bytes were not waiting`);
    }
  });

  it('never has more than `concurrency` reads open, even with a read-ahead of several parts', async () => {
    const source = new WatchedSource(dir.path);
    await consume(source, 0, { partSize: 256 * KiB, concurrency: 3, readAhead: 2048 * KiB });
    assert.equal(source.starts.length, Math.ceil(body.length / (256 * KiB)));
    assert.ok(source.mostOpen <= 3, `${source.mostOpen} reads were open at once`);
    assert.ok(source.mostOpen >= 2, 'the read-ahead never opened a second read');
  });
});
