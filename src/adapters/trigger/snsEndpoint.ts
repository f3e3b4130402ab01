import type { ObjectEventHandler, ObjectEventTrigger } from '../../ports/objectEvents';
import type { WorkflowLog } from '../../ports/workflowLog';
import { orderBySequencer, parseS3EventJson } from './s3EventRecords';
import { SnsCertificates, type CertificateFetcher } from './snsCertificates';
import { SnsReplayGuard } from './snsReplayGuard';
import { SNS_CERT_PATH, isSnsUrl, readSnsMessage, verifySnsSignature, type SnsMessage } from './snsSignature';

export type HttpHeaders = Record<string, string | string[] | undefined>;
export interface SnsAnswer {
  status: number;
  body?: string;
}

/** Confirms a subscription: a GET of the SubscribeURL; rejects unless SNS answered 2xx. */
export type SubscriptionConfirmer = (subscribeUrl: string) => Promise<void>;

export interface SnsEndpointOptions {
  /** Topics whose messages are accepted (and whose subscriptions are confirmed). Absent: any topic, with a warning at start. */
  topicArns?: string[];
  log: WorkflowLog;
  /** Fetches a signing certificate (tests serve their own); the URL is checked to be SNS's before it is called. */
  certificateFetcher?: CertificateFetcher;
  /** Confirms a subscription (tests record it); the SubscribeURL is checked to be SNS's before it is called. */
  confirmSubscription?: SubscriptionConfirmer;
  /** A message whose Timestamp is older than this is refused as a replay (default 1 hour, SNS's longest retry span by default policies). */
  maxMessageAgeMs?: number;
  /** How many delivered MessageIds are remembered (default 10,000). */
  maxRememberedMessages?: number;
  now?: () => number;
}

const MAX_BODY_BYTES = 300 * 1024; // SNS messages are at most 256 KiB, plus the envelope.
const CONFIRM_TIMEOUT_MS = 15_000;

const BAD_REQUEST: SnsAnswer = { status: 400, body: 'bad request' };
const FORBIDDEN: SnsAnswer = { status: 403, body: 'forbidden' };
const UNAVAILABLE: SnsAnswer = { status: 503, body: 'unavailable' };
const OK: SnsAnswer = { status: 200, body: 'ok' };

/**
 * S3 event notifications posted by SNS to the bot (`POST /api/push/sns`).
 *
 * Nothing is acted on before the message is proven to be SNS's: the certificate URL must be an
 * https URL on `sns.<region>.amazonaws.com` (checked before anything is fetched), the signature
 * must verify with that certificate (SignatureVersion 1, SHA1withRSA, or 2, SHA256withRSA), the
 * topic must be an allowed one, and the message must be neither too old nor already delivered.
 * Refusals say only "bad request" or "forbidden"; the reason goes to the log.
 *
 * A Notification's Message is read as an S3 event and each object handed to `onEvent`; the
 * answer is 200 only after every `onEvent` resolved, and 500 otherwise, so SNS delivers it again
 * (a retry carries the same MessageId and is not taken for a replay, since only delivered
 * messages are remembered). A SubscriptionConfirmation is confirmed by a GET of its SubscribeURL,
 * itself checked to be SNS's. A message already delivered is answered 200 and not delivered
 * again: SNS itself redelivers when an answer is lost, and a 200 ends that.
 */
export class SnsEndpoint implements ObjectEventTrigger {
  private onEvent?: ObjectEventHandler;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<SnsAnswer>>();
  private readonly certificates: SnsCertificates;
  private readonly replays: SnsReplayGuard;
  private readonly confirm: SubscriptionConfirmer;
  private readonly topics?: ReadonlySet<string>;

  constructor(private readonly options: SnsEndpointOptions) {
    this.certificates = new SnsCertificates(options.certificateFetcher, undefined, undefined, options.now);
    this.replays = new SnsReplayGuard(options.maxMessageAgeMs ?? 3600_000, options.maxRememberedMessages, options.now);
    this.confirm = options.confirmSubscription ?? confirmWithFetch;
    this.topics = options.topicArns ? new Set(options.topicArns) : undefined;
  }

  async start(onEvent: ObjectEventHandler): Promise<void> {
    this.onEvent = onEvent;
    this.stopped = false;
    if (!this.topics) this.options.log.warn({}, 'SNS endpoint accepts every topic: list the topic ARNs in the push rules to accept only yours');
    this.options.log.info({ topics: this.options.topicArns ?? 'any' }, 'SNS endpoint started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** One HTTP request: its headers and its body as received. Never throws. */
  async handle(headers: HttpHeaders, rawBody: string): Promise<SnsAnswer> {
    const { log } = this.options;
    if (!this.onEvent || this.stopped) return UNAVAILABLE;
    if (Buffer.byteLength(rawBody) > MAX_BODY_BYTES) return this.refuse(BAD_REQUEST, 'body too large', {});
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody);
    } catch {
      return this.refuse(BAD_REQUEST, 'body is not JSON', {});
    }
    const message = readSnsMessage(parsed);
    if (typeof message === 'string') return this.refuse(BAD_REQUEST, `missing or bad field ${message}`, {});
    const fields = { messageId: message.MessageId, topicArn: message.TopicArn, type: message.Type };
    const typeHeader = header(headers, 'x-amz-sns-message-type');
    if (typeHeader !== undefined && typeHeader !== message.Type) return this.refuse(BAD_REQUEST, 'x-amz-sns-message-type does not match Type', fields);

    if (!isSnsUrl(message.SigningCertURL, SNS_CERT_PATH)) return this.refuse(FORBIDDEN, 'SigningCertURL is not an SNS certificate URL', { ...fields, certUrl: message.SigningCertURL });
    let verified = false;
    try {
      verified = verifySnsSignature(message, await this.certificates.get(message.SigningCertURL));
    } catch (e) {
      log.warn({ ...fields, certUrl: message.SigningCertURL, error: (e as Error).message }, 'SNS signing certificate unavailable');
      // Not the sender's fault as far as we know: SNS retries a 5xx.
      return UNAVAILABLE;
    }
    if (!verified) return this.refuse(FORBIDDEN, 'signature does not verify', fields);
    if (this.topics && !this.topics.has(message.TopicArn)) return this.refuse(FORBIDDEN, 'topic not allowed', fields);
    const age = this.replays.ageProblem(message.Timestamp);
    if (age) return this.refuse(FORBIDDEN, `Timestamp ${age}`, { ...fields, timestamp: message.Timestamp });

    const running = this.inFlight.get(message.MessageId);
    if (running) return running;
    if (this.replays.wasDelivered(message.MessageId)) {
      log.warn(fields, 'SNS message replayed: already delivered, not delivered again');
      return OK;
    }
    const answer = this.act(message).finally(() => this.inFlight.delete(message.MessageId));
    this.inFlight.set(message.MessageId, answer);
    return answer;
  }

  private async act(message: SnsMessage): Promise<SnsAnswer> {
    const { log } = this.options;
    const fields = { messageId: message.MessageId, topicArn: message.TopicArn, type: message.Type };
    if (message.Type === 'UnsubscribeConfirmation') {
      log.warn(fields, 'SNS says this endpoint was unsubscribed from the topic');
      this.replays.markDelivered(message.MessageId);
      return OK;
    }
    if (message.Type === 'SubscriptionConfirmation') {
      if (!isSnsUrl(message.SubscribeURL!)) return this.refuse(FORBIDDEN, 'SubscribeURL is not an SNS URL', fields);
      try {
        await this.confirm(message.SubscribeURL!);
      } catch (e) {
        log.error({ ...fields, error: (e as Error).message }, 'SNS subscription confirmation failed');
        return { status: 502, body: 'confirmation failed' };
      }
      log.info(fields, 'SNS subscription confirmed');
      this.replays.markDelivered(message.MessageId);
      return OK;
    }

    const parsed = (() => {
      try {
        return parseS3EventJson(JSON.parse(message.Message), 'sns');
      } catch {
        return { kind: 'unrecognised' as const, reason: 'the Message is not JSON' };
      }
    })();
    if (parsed.kind === 'test') {
      log.info(fields, 'S3 test event skipped');
    } else if (parsed.kind === 'unrecognised') {
      // Signed by SNS but not an S3 event: sending it again would not help, so it is logged and acknowledged.
      log.error({ ...fields, reason: parsed.reason, messageExcerpt: message.Message.slice(0, 500) }, 'SNS message is not an S3 event; acknowledged');
    } else {
      for (const group of orderBySequencer(parsed.events.map((event) => ({ event })))) {
        for (const { event } of group) {
          try {
            await this.onEvent!(event);
          } catch (e) {
            log.warn({ ...fields, bucket: event.container, key: event.key, error: (e as Error)?.message ?? String(e) }, 'push event not recorded; SNS will deliver it again');
            return { status: 500, body: 'try again' };
          }
        }
      }
    }
    this.replays.markDelivered(message.MessageId);
    return OK;
  }

  private refuse(answer: SnsAnswer, reason: string, fields: object): SnsAnswer {
    this.options.log.warn({ ...fields, reason, status: answer.status }, 'SNS request refused');
    return answer;
  }
}

function header(headers: HttpHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

async function confirmWithFetch(subscribeUrl: string): Promise<void> {
  const res = await fetch(subscribeUrl, { redirect: 'error', signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`SNS answered HTTP ${res.status} to the confirmation`);
}
