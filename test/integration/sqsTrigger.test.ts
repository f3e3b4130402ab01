import { strict as assert } from 'node:assert';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsTrigger } from '../../src/adapters/trigger/sqsTrigger';
import type { ObjectEvent } from '../../src/ports/objectEvents';
import { startFauxqs, type FauxqsServer } from '../support/fauxqsServer';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';
import { eventBridgeBody, s3EventBody, s3TestEventBody, snsEnvelopeBody } from '../support/s3EventMessages';

/** Polls `check` until it holds; generous, since the machine is shared. */
async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface SentCommand {
  name: string;
  /** ReceiveMessage: the visibility timeout and long-poll wait asked, and the IDs and receive counts of what came back. */
  visibilityTimeout?: number;
  waitTimeSeconds?: number;
  receivedIds: string[];
  receiveCounts: Array<string | undefined>;
  /** DeleteMessage, ChangeMessageVisibility: the message acted on. */
  receiptHandle?: string;
  /** Unset while in flight; then 'answered', or the name of the error it rejected with (AbortError: its abort signal fired). */
  outcome?: string;
}

/** Records every command `client` sends, in order, with what SQS answered to a receive. */
function recordCommands(client: SQSClient): SentCommand[] {
  const sent: SentCommand[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { VisibilityTimeout?: number; WaitTimeSeconds?: number; ReceiptHandle?: string };
      const entry: SentCommand = { name: context.commandName ?? '?', receivedIds: [], receiveCounts: [], receiptHandle: input.ReceiptHandle };
      if (entry.name === 'ReceiveMessageCommand') Object.assign(entry, { visibilityTimeout: input.VisibilityTimeout, waitTimeSeconds: input.WaitTimeSeconds });
      sent.push(entry);
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (e) {
        entry.outcome = (e as Error)?.name ?? String(e);
        throw e;
      }
      entry.outcome = 'answered';
      for (const m of (result.output as { Messages?: Message[] }).Messages ?? []) {
        entry.receivedIds.push(m.MessageId!);
        entry.receiveCounts.push(m.Attributes?.ApproximateReceiveCount);
      }
      return result;
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return sent;
}

describe('SqsTrigger against fauxqs', function () {
  this.timeout(120_000);
  let fauxqs: FauxqsServer;
  let queueNo = 0;
  const triggers: SqsTrigger[] = [];

  before(async () => {
    fauxqs = await startFauxqs();
  });
  after(async () => {
    await fauxqs?.stop();
  });
  afterEach(async () => {
    await Promise.all(triggers.splice(0).map((t) => t.stop()));
  });

  function queue(attributes?: Record<string, string>): { name: string; url: string; arn: string } {
    const name = `outbound-${++queueNo}`;
    const { queueUrl, queueArn } = fauxqs.createQueue(name, attributes);
    return { name, url: queueUrl, arn: queueArn };
  }

  function trigger(queueUrl: string, log = new RecordingWorkflowLog(), visibilityTimeoutSeconds = 1, client = fauxqs.client()): SqsTrigger {
    const t = new SqsTrigger({ queueUrl, visibilityTimeoutSeconds, waitTimeSeconds: 1, client, log });
    triggers.push(t);
    return t;
  }

  it('delivers a key with spaces and + decoded, skips and deletes s3:TestEvent', async () => {
    const q = queue();
    const log = new RecordingWorkflowLog();
    const seen: ObjectEvent[] = [];
    await fauxqs.send(q.url, s3TestEventBody('outbound'));
    await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'partner a/Q1 report+final (1).csv', size: 42, versionId: 'v-1', etag: 'abc123' }));
    await trigger(q.url, log).start(async (e) => {
      seen.push(e);
    });
    await until('the event and both deletes', () => seen.length === 1 && fauxqs.counts(q.name).ready + fauxqs.counts(q.name).inflight === 0);
    assert.deepEqual(
      { key: seen[0]!.key, container: seen[0]!.container, size: seen[0]!.size, versionId: seen[0]!.versionId, etag: seen[0]!.etag, via: seen[0]!.via },
      { key: 'partner a/Q1 report+final (1).csv', container: 'outbound', size: 42, versionId: 'v-1', etag: 'abc123', via: 'sqs' },
    );
    assert.equal(log.find('S3 test event skipped').length, 1);
  });

  it('leaves a message whose handler throws; it is delivered again after the visibility timeout', async () => {
    const q = queue();
    const log = new RecordingWorkflowLog();
    const client = fauxqs.client();
    const sent = recordCommands(client);
    const id = await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'flaky.csv', size: 1 }));
    let attempts = 0;
    await trigger(q.url, log, 1, client).start(async () => {
      if (++attempts === 1) throw new Error('store unavailable');
    });
    await until('a second delivery and the delete', () => attempts === 2 && fauxqs.counts(q.name).ready + fauxqs.counts(q.name).inflight === 0);
    // Not handed back at once: between the two deliveries the trigger neither deleted the message
    // nor shortened its visibility timeout, so only that timeout (1 s, asked on the receive) can
    // have brought it back; SQS counts the second delivery as the same message's second receive.
    const mine = sent.filter((c) => c.receivedIds.includes(id) || c.receiptHandle !== undefined);
    assert.deepEqual(
      mine.map((c) => (c.name === 'ReceiveMessageCommand' ? `receive (visibility ${c.visibilityTimeout} s): count ${c.receiveCounts[c.receivedIds.indexOf(id)]}` : c.name)),
      ['receive (visibility 1 s): count 1', 'receive (visibility 1 s): count 2', 'DeleteMessageCommand'],
    );
    assert.equal(log.find('left for redelivery').length, 1);
    assert.equal(log.find('left for redelivery')[0]!.fields.key, 'flaky.csv');
  });

  it('deletes only after the handler resolved: stop() waits for it, and a trigger that dies first leaves the message', async () => {
    const q = queue();
    await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'slow.csv', size: 1 }));
    const client = fauxqs.client();
    const sent = recordCommands(client);
    const names = (): string[] => sent.map((c) => c.name);
    // The handler blocks on a latch only the test opens, and says when it has been called.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let called!: () => void;
    const handlerCalled = new Promise<void>((r) => (called = r));
    const first = trigger(q.url, new RecordingWorkflowLog(), 30, client);
    await first.start(async () => {
      called();
      await held;
    });
    let stopped = false;
    let stopping: Promise<unknown> | undefined;
    try {
      await handlerCalled;
      // A delete sent before or along with the handler's call is recorded by now (the middleware
      // records a command on send, before anything awaits): none, nor a further receive.
      assert.deepEqual(names(), ['GetQueueAttributesCommand', 'ReceiveMessageCommand']);
      assert.deepEqual(fauxqs.counts(q.name), { ready: 0, delayed: 0, inflight: 1 });
      stopping = first.stop().then(() => (stopped = true));
      // Let every callback already queued run: all a stop() that does not wait for the handler needs
      // to resolve. The one it does wait for is the latch, which stays shut until the test opens it.
      await new Promise((r) => setImmediate(r));
      assert.equal(stopped, false, 'stop() must wait for the handler in flight');
      assert.deepEqual(names(), ['GetQueueAttributesCommand', 'ReceiveMessageCommand'], 'nothing deleted while the handler is pending');
      assert.deepEqual(fauxqs.counts(q.name), { ready: 0, delayed: 0, inflight: 1 });
    } finally {
      // Opened when an assertion fails too, or afterEach's stop() would wait for the handler forever.
      release();
    }
    await stopping;
    // stop() resolved only after the delete the handler's resolving let through.
    assert.deepEqual(names(), ['GetQueueAttributesCommand', 'ReceiveMessageCommand', 'DeleteMessageCommand']);
    assert.equal(sent[2]!.outcome, 'answered');
    assert.deepEqual(fauxqs.counts(q.name), { ready: 0, delayed: 0, inflight: 0 }, 'deleted once the handler resolved');

    // A consumer that dies with the handler pending (its process killed: it never deletes) leaves
    // the message to come back after the visibility timeout, for the next consumer.
    await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'crash.csv', size: 1 }));
    const dying = fauxqs.client();
    const taken = await dying.send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, VisibilityTimeout: 1, WaitTimeSeconds: 5 }));
    assert.equal(taken.Messages?.length, 1);
    dying.destroy();
    const again: string[] = [];
    await trigger(q.url).start(async (e) => {
      again.push(e.key);
    });
    await until('the redelivery', () => again.length === 1 && fauxqs.counts(q.name).inflight === 0);
    assert.deepEqual(again, ['crash.csv']);
  });

  it('unwraps SNS and EventBridge bodies, and orders one key by sequencer across a batch', async () => {
    const q = queue();
    await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'same.csv', size: 3, sequencer: '0055AED6DCD90281E7' }));
    await fauxqs.send(q.url, snsEnvelopeBody(s3EventBody({ bucket: 'outbound', key: 'same.csv', size: 2, sequencer: '0055AED6DCD90281E6' })));
    await fauxqs.send(q.url, eventBridgeBody({ bucket: 'outbound', key: 'bridge+plus.csv', size: 9 }));
    await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'same.csv', size: 1, sequencer: '0055AED6DCD90281E5' }));
    const seen: ObjectEvent[] = [];
    await trigger(q.url).start(async (e) => {
      seen.push(e);
    });
    await until('four events', () => seen.length === 4 && fauxqs.counts(q.name).inflight === 0);
    assert.deepEqual(seen.filter((e) => e.key === 'same.csv').map((e) => e.size), [1, 2, 3]);
    assert.deepEqual(seen.find((e) => e.key !== 'same.csv')?.key, 'bridge+plus.csv');
  });

  it('a body that is no S3 event: deleted and logged with its message ID, or left for the DLQ when there is one', async () => {
    const plain = queue();
    const log = new RecordingWorkflowLog();
    const id = await fauxqs.send(plain.url, '{"hello":"world"}');
    await trigger(plain.url, log).start(async () => undefined);
    await until('the delete', () => fauxqs.counts(plain.name).ready + fauxqs.counts(plain.name).inflight === 0);
    const [line] = log.find('is not an S3 event');
    assert.equal(line?.fields.messageId, id);
    assert.equal(line?.level, 'error');

    const dlq = queue();
    const withDlq = queue({ RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
    await fauxqs.send(withDlq.url, 'not json at all');
    await trigger(withDlq.url).start(async () => undefined);
    await until('the move to the DLQ', () => fauxqs.counts(dlq.name).ready === 1);
    assert.equal(fauxqs.counts(withDlq.name).ready + fauxqs.counts(withDlq.name).inflight, 0);
  });

  it('many messages: every event once, every message deleted', async () => {
    const q = queue();
    const keys = Array.from({ length: 60 }, (_, i) => `burst/file ${i}+x.bin`);
    await Promise.all(keys.map((key) => fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key, size: 1 }))));
    const seen = new Map<string, number>();
    await trigger(q.url, new RecordingWorkflowLog(), 30).start(async (e) => {
      seen.set(e.key, (seen.get(e.key) ?? 0) + 1);
    });
    await until('all 60', () => seen.size === 60 && fauxqs.counts(q.name).ready + fauxqs.counts(q.name).inflight === 0);
    assert.deepEqual([...seen.keys()].sort(), [...keys].sort());
    assert.ok([...seen.values()].every((n) => n === 1));
  });

  it('without a client, finds SQS through AWS_ENDPOINT_URL_SQS (the SDK default chain)', async () => {
    const q = queue();
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: `AKID${Date.now()}`,
      AWS_SECRET_ACCESS_KEY: `made-up-${Math.random()}`,
    });
    delete process.env.AWS_PROFILE;
    // The SDK reads the environment lazily (at the first call), so it stays set until stop().
    const log = new RecordingWorkflowLog();
    const t = new SqsTrigger({ queueUrl: q.url, visibilityTimeoutSeconds: 5, waitTimeSeconds: 1, log });
    const seen: string[] = [];
    try {
      await fauxqs.send(q.url, s3EventBody({ bucket: 'outbound', key: 'env endpoint.csv', size: 1 }));
      await t.start(async (e) => {
        seen.push(e.key);
      });
      await until('the event', () => seen.length === 1 && fauxqs.counts(q.name).inflight === 0, 15_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; log: ${log.text()}`);
    } finally {
      await t.stop();
      process.env = saved;
    }
    assert.deepEqual(seen, ['env endpoint.csv']);
  });

  it('start() names a queue that does not exist; stop() cancels the long poll in flight', async () => {
    const missing = `${fauxqs.endpoint}/000000000000/no-such-queue`;
    const t = new SqsTrigger({ queueUrl: missing, visibilityTimeoutSeconds: 30, client: fauxqs.client(), log: new RecordingWorkflowLog() });
    await assert.rejects(t.start(async () => undefined), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && e.message.includes(missing));

    const q = queue();
    const client = fauxqs.client();
    const sent = recordCommands(client);
    const polling = new SqsTrigger({ queueUrl: q.url, visibilityTimeoutSeconds: 30, waitTimeSeconds: 20, client, log: new RecordingWorkflowLog() });
    await polling.start(async () => undefined);
    await until('the long poll to be sent', () => sent.some((c) => c.name === 'ReceiveMessageCommand'));
    await polling.stop();
    // The queue is empty, so the only way that 20 s poll ends without being cancelled is SQS's
    // empty answer at the end of it; stop() resolved with the poll rejected by its abort signal
    // instead, and no other receive was started.
    const receives = sent.filter((c) => c.name === 'ReceiveMessageCommand');
    assert.deepEqual(
      receives.map((c) => ({ waitTimeSeconds: c.waitTimeSeconds, outcome: c.outcome })),
      [{ waitTimeSeconds: 20, outcome: 'AbortError' }],
    );
  });

  it('an unreachable SQS is logged as a warning with its backoff, and the loop keeps going', async () => {
    const q = queue();
    const log = new RecordingWorkflowLog();
    // A client pointed at a closed port first: every receive fails with a network error.
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const broken = new SQSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    const t = new SqsTrigger({ queueUrl: q.url, visibilityTimeoutSeconds: 5, waitTimeSeconds: 1, client: broken, log });
    await t.start(async () => undefined);
    await until('two failed receives', () => log.find('SQS receive failed').length >= 2);
    await t.stop();
    broken.destroy();
    assert.ok(log.find('SQS receive failed').every((l) => l.level === 'warn' && typeof l.fields.retryInMs === 'number'));
  });
});
