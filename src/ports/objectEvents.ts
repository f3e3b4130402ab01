/**
 * Push mode's triggers: something that tells FileFerry an object has appeared or changed in a
 * watched place (an S3 event on SQS, an SNS notification over HTTPS, or a scan by polling).
 *
 * A trigger hands each event to `onEvent` and treats the event as delivered only when that
 * promise resolves: the queue message is deleted (or the cursor advanced) after the event is
 * durably recorded, never before, so a crash in between replays it rather than losing it.
 * Replays are expected: the claim ledger makes them harmless.
 */
export interface ObjectEvent {
  /** The watched place, as the rule names it: `s3://bucket/prefix/`, `azblob://container/prefix/`, `file:///folder/`. */
  scheme: 's3' | 'azblob' | 'file';
  /** Bucket, container, or (file) the folder. */
  container: string;
  /** Decoded object key ("red flower.jpg", never "red+flower.jpg"). */
  key: string;
  versionId?: string;
  /** Without quotes. */
  etag?: string;
  size?: number;
  /** S3's per-key ordering token (hex); compare with `compareSequencers`. */
  sequencer?: string;
  /** ISO-8601 UTC when the store says the object was written. */
  eventTime?: string;
  /** What delivered it: `sqs`, `sns`, `poll`. For audit records and metrics. */
  via: 'sqs' | 'sns' | 'poll';
}

export type ObjectEventHandler = (event: ObjectEvent) => Promise<void>;

export interface ObjectEventTrigger {
  /** Starts delivering; resolves once started (a bad queue URL fails here, with its name). */
  start(onEvent: ObjectEventHandler): Promise<void>;
  /** Stops taking new events and waits for deliveries in flight to settle. */
  stop(): Promise<void>;
}

/** S3 sequencers are hex strings of varying length: pad the shorter with zeros on the right, then compare. */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padEnd(width, '0');
  const pb = b.toUpperCase().padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
