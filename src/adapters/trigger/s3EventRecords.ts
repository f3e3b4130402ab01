import { compareSequencers, type ObjectEvent } from '../../ports/objectEvents';

/**
 * What one queue or SNS message said, once read:
 * - `events`: the objects created (possibly none, when every record was of another kind);
 * - `test`: S3's `s3:TestEvent`, sent once when a notification configuration is saved: ack, skip;
 * - `unrecognised`: not an S3 event in any shape we know; `reason` says what was wrong.
 */
export type ParsedS3Body =
  | { kind: 'events'; events: ObjectEvent[]; ignored: number }
  | { kind: 'test' }
  | { kind: 'unrecognised'; reason: string };

type Via = ObjectEvent['via'];

/**
 * Reads a message body in any of the shapes S3 events reach a queue or an HTTPS endpoint in:
 * S3's own `{"Records":[…]}`, an SNS envelope whose `Message` is that JSON (SNS → SQS without raw
 * delivery), or an EventBridge "Object Created" event. Never throws.
 */
export function parseS3EventBody(body: string, via: Via): ParsedS3Body {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'unrecognised', reason: 'the body is not JSON' };
  }
  return parseS3EventJson(value, via);
}

/** As parseS3EventBody, for a body already parsed. */
export function parseS3EventJson(value: unknown, via: Via): ParsedS3Body {
  if (!isObject(value)) return { kind: 'unrecognised', reason: 'the body is not a JSON object' };
  if (value.Event === 's3:TestEvent') return { kind: 'test' };
  if (value.Type === 'Notification' && typeof value.Message === 'string') {
    // One level only: an SNS envelope inside an SNS envelope is not something AWS produces.
    let inner: unknown;
    try {
      inner = JSON.parse(value.Message);
    } catch {
      return { kind: 'unrecognised', reason: 'the SNS Message is not JSON' };
    }
    if (isObject(inner) && inner.Type === 'Notification') return { kind: 'unrecognised', reason: 'nested SNS envelopes' };
    return parseS3EventJson(inner, via);
  }
  if (value.source === 'aws.s3' && typeof value['detail-type'] === 'string') return fromEventBridge(value, via);
  if (Array.isArray(value.Records)) return fromRecords(value.Records, via);
  return { kind: 'unrecognised', reason: 'no Records, SNS Message or EventBridge detail' };
}

/**
 * Keys in S3 notification records are form-encoded: a space is `+`, a real plus is `%2B`.
 * decodeURIComponent alone would leave `+` as a plus.
 */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * Delivery order within one batch: the events of one bucket and key sorted by sequencer (S3 does
 * not promise to deliver them in order), keys in the order they first appeared. Events without a
 * sequencer keep their place relative to each other, after those that have one.
 */
export function orderBySequencer<T extends { event: ObjectEvent }>(items: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const id = `${item.event.scheme}\u0000${item.event.container}\u0000${item.event.key}`;
    const group = groups.get(id);
    if (group) group.push(item);
    else groups.set(id, [item]);
  }
  return [...groups.values()].map((group) =>
    group
      .map((item, index) => ({ item, index }))
      .sort((a, b) => {
        const sa = a.item.event.sequencer;
        const sb = b.item.event.sequencer;
        if (sa && sb) return compareSequencers(sa, sb) || a.index - b.index;
        if (sa) return -1;
        if (sb) return 1;
        return a.index - b.index;
      })
      .map(({ item }) => item),
  );
}

function fromRecords(records: unknown[], via: Via): ParsedS3Body {
  const events: ObjectEvent[] = [];
  let ignored = 0;
  for (const [i, record] of records.entries()) {
    if (!isObject(record)) return { kind: 'unrecognised', reason: `record ${i} is not an object` };
    const name = record.eventName;
    if (typeof name !== 'string') return { kind: 'unrecognised', reason: `record ${i} has no eventName` };
    // Push mode sends what appears; removals, restores, tagging and lifecycle events change
    // nothing to send. A removal that follows a creation is seen when the object is read.
    if (!name.startsWith('ObjectCreated:') || record.eventSource !== 'aws:s3') {
      ignored++;
      continue;
    }
    const s3 = isObject(record.s3) ? record.s3 : undefined;
    const bucket = s3 && isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = s3 && isObject(s3.object) ? s3.object : undefined;
    if (typeof bucket !== 'string' || !bucket || !object || typeof object.key !== 'string' || !object.key) {
      return { kind: 'unrecognised', reason: `record ${i} has no s3.bucket.name or s3.object.key` };
    }
    let key: string;
    try {
      key = decodeS3EventKey(object.key);
    } catch {
      return { kind: 'unrecognised', reason: `record ${i} has a malformed percent-escape in its key` };
    }
    events.push(
      event(via, bucket, key, {
        versionId: object.versionId,
        etag: object.eTag,
        size: object.size,
        sequencer: object.sequencer,
        eventTime: record.eventTime,
      }),
    );
  }
  return { kind: 'events', events, ignored };
}

/**
 * EventBridge's S3 events carry the key as stored (its examples show no form encoding, and the
 * `detail` is JSON built by EventBridge rather than S3's notification encoder), so it is taken
 * as is: a `+` there is a plus.
 */
function fromEventBridge(value: Record<string, unknown>, via: Via): ParsedS3Body {
  if (value['detail-type'] !== 'Object Created') return { kind: 'events', events: [], ignored: 1 };
  const detail = isObject(value.detail) ? value.detail : undefined;
  const bucket = detail && isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = detail && isObject(detail.object) ? detail.object : undefined;
  if (typeof bucket !== 'string' || !bucket || !object || typeof object.key !== 'string' || !object.key) {
    return { kind: 'unrecognised', reason: 'the EventBridge event has no detail.bucket.name or detail.object.key' };
  }
  return {
    kind: 'events',
    events: [
      event(via, bucket, object.key, {
        versionId: object['version-id'],
        etag: object.etag,
        size: object.size,
        sequencer: object.sequencer,
        eventTime: value.time,
      }),
    ],
    ignored: 0,
  };
}

function event(via: Via, container: string, key: string, fields: Record<string, unknown>): ObjectEvent {
  const out: ObjectEvent = { scheme: 's3', container, key, via };
  if (typeof fields.versionId === 'string' && fields.versionId && fields.versionId !== 'null') out.versionId = fields.versionId;
  if (typeof fields.etag === 'string' && fields.etag) out.etag = fields.etag.replace(/^"|"$/g, '');
  if (typeof fields.size === 'number' && Number.isSafeInteger(fields.size) && fields.size >= 0) out.size = fields.size;
  if (typeof fields.sequencer === 'string' && /^[0-9A-Fa-f]+$/.test(fields.sequencer)) out.sequencer = fields.sequencer;
  if (typeof fields.eventTime === 'string' && !Number.isNaN(Date.parse(fields.eventTime))) out.eventTime = fields.eventTime;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
