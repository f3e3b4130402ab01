import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { FerryError } from '../../src/domain/errors';
import { SFTP_STATUS, mapSftpError, stalled } from '../../src/adapters/destination/sftpErrors';
import { WritePipeline, type PositionalWriter, type WritePipelineOptions } from '../../src/adapters/destination/sftpWritePipeline';

/**
 * The pipeline's bookkeeping (coalescing, contiguous acknowledgements, the fall-back to one write
 * in flight, idle timeout, cancel) driven by a scripted writer. The real server behaviour is
 * covered by test/integration/sftpDestination.test.ts against OpenSSH.
 */
class ScriptedWriter implements PositionalWriter {
  readonly disk = Buffer.alloc(8 * 1024 * 1024);
  readonly lengths: number[] = [];
  outstanding = 0;
  maxOutstanding = 0;
  /** Decides each write's answer; default: success on the next tick. */
  answer: (write: { position: number; length: number; outstanding: number; index: number }) => Error | 'hang' | undefined = () => undefined;
  /** Answers are delivered in this order when set (to reorder acknowledgements). */
  reorder = false;
  private queue: (() => void)[] = [];

  write(buffer: Buffer, length: number, position: number, done: (error?: Error | null) => void): void {
    const index = this.lengths.length;
    this.lengths.push(length);
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const verdict = this.answer({ position, length, outstanding: this.outstanding, index });
    if (verdict === 'hang') return;
    const copy = Buffer.from(buffer.subarray(0, length));
    const deliver = (): void => {
      this.outstanding--;
      if (!verdict) copy.copy(this.disk, position);
      done(verdict);
    };
    if (this.reorder) {
      this.queue.push(deliver);
      if (this.queue.length === 3) {
        const batch = this.queue.reverse();
        this.queue = [];
        setImmediate(() => batch.forEach((f) => f()));
      } else {
        setTimeout(() => { const rest = this.queue; this.queue = []; rest.reverse().forEach((f) => f()); }, 5);
      }
    } else {
      setImmediate(deliver);
    }
  }
}

function status(code: number, message = 'Failure'): Error {
  return Object.assign(new Error(message), { code });
}

function options(extra: Partial<WritePipelineOptions> = {}): WritePipelineOptions {
  return {
    maxWrite: 1000,
    maxInFlight: 8,
    idleTimeoutMs: 60_000,
    mapError: (e) => mapSftpError(e, { operation: 'write', path: '/x', label: 'sftp://u@h:22' }),
    timeoutError: () => stalled('sftp://u@h:22', 'Writing /x', 200),
    ...extra,
  };
}

async function* oddChunks(body: Buffer): AsyncGenerator<Buffer> {
  const sizes = [1, 7, 2500, 999, 1000, 3];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield body.subarray(at, at + size);
    at += size;
  }
}

async function rejection(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(() => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(error instanceof FerryError, String(error));
  return error;
}

describe('WritePipeline', () => {
  it('coalesces odd-sized chunks into full-size writes and stores exactly the bytes', async () => {
    const writer = new ScriptedWriter();
    const body = randomBytes(123_457);
    const acks: number[] = [];
    const total = await new WritePipeline(writer, 0, options({ onAcknowledged: (n) => acks.push(n) })).run(oddChunks(body));
    assert.equal(total, body.length);
    assert.ok(writer.disk.subarray(0, body.length).equals(body));
    assert.deepEqual(writer.lengths.slice(0, -1).filter((l) => l !== 1000), [], 'every write but the last is full size');
    assert.equal(writer.lengths.at(-1), 457);
    assert.ok(writer.maxOutstanding > 1 && writer.maxOutstanding <= 8, `outstanding peaked at ${writer.maxOutstanding}`);
    assert.equal(acks.at(-1), body.length);
    assert.deepEqual(acks, [...acks].sort((a, b) => a - b));
  });

  it('sends a chunk that holds whole writes from views of itself, copying only the rest', async () => {
    const writer = new ScriptedWriter();
    const views: boolean[] = [];
    const write = writer.write.bind(writer);
    const stripe = randomBytes(3 * 1000 + 10);
    writer.write = (buffer, length, position, done) => {
      views.push(buffer.buffer === stripe.buffer);
      write(buffer, length, position, done);
    };
    await new WritePipeline(writer, 0, options()).run((async function* () { yield stripe; })());
    assert.ok(writer.disk.subarray(0, stripe.length).equals(stripe));
    assert.deepEqual(writer.lengths, [1000, 1000, 1000, 10]);
    assert.deepEqual(views, [true, true, true, false], 'three writes straight from the stripe, the tail from a buffer of ours');
  });

  it('writes from the offset and reports acknowledgements relative to it', async () => {
    const writer = new ScriptedWriter();
    const body = randomBytes(5000);
    const acks: number[] = [];
    await new WritePipeline(writer, 700, options({ onAcknowledged: (n) => acks.push(n) })).run(oddChunks(body));
    assert.ok(writer.disk.subarray(700, 5700).equals(body));
    assert.equal(acks.at(-1), 5000);
  });

  it('reports only contiguous acknowledgements when answers come out of order', async () => {
    const writer = new ScriptedWriter();
    writer.reorder = true;
    const body = randomBytes(20_000);
    const acks: number[] = [];
    await new WritePipeline(writer, 0, options({ onAcknowledged: (n) => acks.push(n) })).run(oddChunks(body));
    assert.ok(writer.disk.subarray(0, body.length).equals(body));
    assert.deepEqual(acks, [...acks].sort((a, b) => a - b));
    assert.ok(acks.every((a) => a % 1000 === 0 || a === body.length), `acks fall on write boundaries: ${acks}`);
    assert.equal(acks.at(-1), body.length);
  });

  it('falls back to one write in flight when the server answers concurrent writes with a bare FAILURE', async () => {
    const writer = new ScriptedWriter();
    let serialized = 0;
    // A server that cannot take two writes at once.
    writer.answer = ({ outstanding }) => (outstanding > 1 ? status(SFTP_STATUS.FAILURE) : undefined);
    const body = randomBytes(30_000);
    const acks: number[] = [];
    await new WritePipeline(writer, 0, options({ onSerialized: () => serialized++, onAcknowledged: (n) => acks.push(n) })).run(oddChunks(body));
    assert.equal(serialized, 1);
    assert.ok(writer.disk.subarray(0, body.length).equals(body), 'the failed writes were sent again');
    assert.equal(acks.at(-1), body.length);
    assert.deepEqual(acks, [...acks].sort((a, b) => a - b));
  });

  it('fails when a write alone gets FAILURE, and at once on other statuses', async () => {
    const alone = new ScriptedWriter();
    alone.answer = ({ index }) => (index === 2 ? status(SFTP_STATUS.FAILURE) : undefined);
    const first = await rejection(new WritePipeline(alone, 0, options({ maxInFlight: 1 })).run(oddChunks(randomBytes(10_000))));
    assert.equal(first.code, 'SERVER_ERROR');

    const denied = new ScriptedWriter();
    denied.answer = ({ index }) => (index === 3 ? status(SFTP_STATUS.PERMISSION_DENIED, 'Permission denied') : undefined);
    const second = await rejection(new WritePipeline(denied, 0, options()).run(oddChunks(randomBytes(10_000))));
    assert.equal(second.code, 'ACCESS_DENIED');

    const full = new ScriptedWriter();
    full.answer = ({ index }) => (index === 1 ? status(SFTP_STATUS.FAILURE, 'No space left on device') : undefined);
    const third = await rejection(new WritePipeline(full, 0, options()).run(oddChunks(randomBytes(10_000))));
    assert.equal(third.code, 'DISK_FULL');
  });

  it('times out when writes stay unanswered, but not while the producer is slow', async () => {
    const slowProducer = new ScriptedWriter();
    async function* slow(): AsyncGenerator<Buffer> {
      yield randomBytes(1000);
      await new Promise((r) => setTimeout(r, 400));
      yield randomBytes(1000);
    }
    await new WritePipeline(slowProducer, 0, options({ idleTimeoutMs: 200 })).run(slow());

    const hung = new ScriptedWriter();
    hung.answer = ({ index }) => (index >= 2 ? 'hang' : undefined);
    const error = await rejection(new WritePipeline(hung, 0, options({ idleTimeoutMs: 200 })).run(oddChunks(randomBytes(10_000))));
    assert.equal(error.code, 'TIMEOUT');
    assert.equal(error.retryable, true);
  });

  it('fails with CANCELLED when the signal aborts, even while waiting for the producer', async () => {
    const controller = new AbortController();
    async function* never(): AsyncGenerator<Buffer> {
      yield randomBytes(10);
      await new Promise(() => undefined);
    }
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(new WritePipeline(new ScriptedWriter(), 0, options({ signal: controller.signal })).run(never()));
    assert.equal(error.code, 'CANCELLED');
  });

  it('reports 0 for an empty input', async () => {
    const acks: number[] = [];
    const writer = new ScriptedWriter();
    assert.equal(await new WritePipeline(writer, 0, options({ onAcknowledged: (n) => acks.push(n) })).run(oddChunks(Buffer.alloc(0))), 0);
    assert.deepEqual(writer.lengths, []);
    assert.deepEqual(acks, [0]);
  });
});
