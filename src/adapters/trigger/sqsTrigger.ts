import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { ConfigError, isAbort } from '../../domain/errors';
import type { ObjectEvent, ObjectEventHandler, ObjectEventTrigger } from '../../ports/objectEvents';
import type { WorkflowLog } from '../../ports/workflowLog';
import { backoffDelay, sleep } from '../../transfer/backoff';
import { orderBySequencer, parseS3EventBody } from './s3EventRecords';
import { sqsError } from './sqsErrors';

export interface SqsTriggerOptions {
  queueUrl: string;
  /**
   * How long a received message stays hidden from other receivers. It must outlast `onEvent`
   * (push mode's durable claim); a message still in hand when it runs out is delivered again,
   * which the claim ledger makes harmless.
   */
  visibilityTimeoutSeconds: number;
  /** Long-poll wait, 1–20 s (default 20, SQS's maximum: fewest empty receives). */
  waitTimeSeconds?: number;
  /** Defaults to an SQSClient from the SDK's default chain (region, credentials, AWS_ENDPOINT_URL_SQS). */
  client?: SQSClient;
  log: WorkflowLog;
}

/** A received message and what became of it. */
interface InHand {
  message: Message;
  outcome: 'pending' | 'failed';
}

const MAX_BACKOFF_MS = 30_000;
/** How much of an unreadable body goes into the log: enough to recognise it, bounded. */
const BODY_EXCERPT = 500;

/**
 * S3 event notifications from an SQS queue (directly, or wrapped by SNS or EventBridge).
 *
 * One long poll at a time, up to 10 messages. The events of a batch are handed to `onEvent`
 * ordered by sequencer per key (keys in parallel, one key's events one after another), and a
 * message is deleted only once every `onEvent` for it resolved. A message whose handler threw is
 * left in the queue and comes back after the visibility timeout; later events of the same key in
 * that batch wait for it (so order holds). `s3:TestEvent` and messages with nothing to send are
 * deleted. A body that is no S3 event is logged with its message ID, then left for the queue's
 * dead-letter queue when it has one (made visible again at once so it gets there quickly), else
 * deleted: without a DLQ it would come back forever and bury real events in the log.
 *
 * Network and service errors are logged and retried with exponential backoff; nothing here
 * throws after start().
 */
export class SqsTrigger implements ObjectEventTrigger {
  private readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly waitTimeSeconds: number;
  private readonly aborter = new AbortController();
  private loop?: Promise<void>;
  private hasDeadLetterQueue = false;

  constructor(private readonly options: SqsTriggerOptions) {
    this.waitTimeSeconds = Math.min(20, Math.max(0, Math.round(options.waitTimeSeconds ?? 20)));
    if (!Number.isInteger(options.visibilityTimeoutSeconds) || options.visibilityTimeoutSeconds < 0 || options.visibilityTimeoutSeconds > 43_200) {
      throw new RangeError(`visibilityTimeoutSeconds must be a whole number of seconds from 0 to 43200, not ${options.visibilityTimeoutSeconds}.`);
    }
    if (!/^https?:\/\/[^/\s]+\/\d+\/[\w.-]+$/.test(options.queueUrl)) {
      throw new ConfigError(`${options.queueUrl || '(empty)'} is not an SQS queue URL.`, 'Give the queue URL as SQS shows it: https://sqs.<region>.amazonaws.com/<account>/<queue>.', 'INVALID_URL');
    }
    this.ownsClient = !options.client;
    // The SDK sends each call to the host in the queue URL unless told otherwise, even when an
    // endpoint override is set in the environment (measured: AWS_ENDPOINT_URL_SQS alone is
    // ignored for calls that carry a QueueUrl), so an override wins here.
    const overridden = Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
    this.client = options.client ?? new SQSClient({ useQueueUrlAsEndpoint: !overridden });
  }

  async start(onEvent: ObjectEventHandler): Promise<void> {
    if (this.loop) throw new Error('This SqsTrigger was already started.');
    const { queueUrl, log } = this.options;
    try {
      const attributes = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
      this.hasDeadLetterQueue = Boolean(attributes.Attributes?.RedrivePolicy);
    } catch (e) {
      const err = sqsError(e, queueUrl);
      if (!err.retryable) throw err;
      // SQS unreachable at start-up is no reason not to start: the loop keeps trying.
      log.warn({ queueUrl, code: err.code, error: err.message }, 'SQS queue not reachable at start; polling will retry');
    }
    log.info({ queueUrl, deadLetterQueue: this.hasDeadLetterQueue, waitTimeSeconds: this.waitTimeSeconds }, 'SQS trigger started');
    this.loop = this.run(onEvent);
  }

  async stop(): Promise<void> {
    this.aborter.abort();
    await this.loop;
    if (this.ownsClient) this.client.destroy();
  }

  private async run(onEvent: ObjectEventHandler): Promise<void> {
    const { queueUrl, log } = this.options;
    const signal = this.aborter.signal;
    let failures = 0;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const answer = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.waitTimeSeconds,
            VisibilityTimeout: this.options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        messages = answer.Messages ?? [];
        failures = 0;
      } catch (e) {
        if (signal.aborted || isAbort(e)) break;
        const err = sqsError(e, queueUrl);
        const delay = backoffDelay(++failures, 1_000, MAX_BACKOFF_MS);
        log[err.retryable ? 'warn' : 'error']({ queueUrl, code: err.code, error: err.message, retryInMs: delay }, 'SQS receive failed');
        await sleep(delay, signal).catch(() => undefined);
        continue;
      }
      // The batch runs to the end even when stop() is called: handlers in flight settle and
      // their messages are deleted, so stopping never turns a delivered event into a replay.
      if (messages.length > 0) await this.handleBatch(messages, onEvent);
    }
    log.info({ queueUrl }, 'SQS trigger stopped');
  }

  private async handleBatch(messages: Message[], onEvent: ObjectEventHandler): Promise<void> {
    const { queueUrl, log } = this.options;
    const withEvents: InHand[] = [];
    const items: Array<{ event: ObjectEvent; from: InHand }> = [];
    const settled: Promise<void>[] = [];

    for (const message of messages) {
      const parsed = parseS3EventBody(message.Body ?? '', 'sqs');
      if (parsed.kind === 'test') {
        log.info({ queueUrl, messageId: message.MessageId }, 'S3 test event skipped');
        settled.push(this.delete(message));
      } else if (parsed.kind === 'unrecognised') {
        settled.push(this.unreadable(message, parsed.reason));
      } else if (parsed.events.length === 0) {
        log.debug({ queueUrl, messageId: message.MessageId, ignored: parsed.ignored }, 'no object created in this message');
        settled.push(this.delete(message));
      } else {
        const inHand: InHand = { message, outcome: 'pending' };
        withEvents.push(inHand);
        for (const event of parsed.events) items.push({ event, from: inHand });
      }
    }

    await Promise.all(
      orderBySequencer(items).map(async (group) => {
        let blocked = false;
        for (const { event, from } of group) {
          if (blocked || from.outcome === 'failed') {
            from.outcome = 'failed';
            blocked = true;
            continue;
          }
          try {
            await onEvent(event);
          } catch (e) {
            from.outcome = 'failed';
            blocked = true;
            log.warn(
              { queueUrl, messageId: from.message.MessageId, bucket: event.container, key: event.key, error: (e as Error)?.message ?? String(e) },
              'push event not recorded; the message is left for redelivery after the visibility timeout',
            );
          }
        }
      }),
    );

    for (const inHand of withEvents) {
      if (inHand.outcome === 'pending') settled.push(this.delete(inHand.message));
    }
    await Promise.all(settled);
  }

  private async unreadable(message: Message, reason: string): Promise<void> {
    const { queueUrl, log } = this.options;
    const body = message.Body ?? '';
    const fields = {
      queueUrl,
      messageId: message.MessageId,
      reason,
      receiveCount: message.Attributes?.ApproximateReceiveCount,
      bodyLength: body.length,
      bodyExcerpt: body.slice(0, BODY_EXCERPT),
    };
    if (!this.hasDeadLetterQueue) {
      log.error(fields, 'SQS message is not an S3 event; deleted (the queue has no dead-letter queue)');
      return this.delete(message);
    }
    log.error(fields, "SQS message is not an S3 event; left for the queue's dead-letter queue");
    try {
      await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch (e) {
      const err = sqsError(e, queueUrl);
      log.warn({ queueUrl, messageId: message.MessageId, code: err.code, error: err.message }, 'could not hand the message back early; it returns after the visibility timeout');
    }
  }

  private async delete(message: Message): Promise<void> {
    const { queueUrl, log } = this.options;
    try {
      await this.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (e) {
      // The event is recorded; a message that comes back is a harmless replay.
      const err = sqsError(e, queueUrl);
      log.warn({ queueUrl, messageId: message.MessageId, code: err.code, error: err.message }, 'SQS delete failed; the message will be delivered again');
    }
  }
}
