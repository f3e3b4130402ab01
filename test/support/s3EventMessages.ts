import { randomBytes, randomUUID } from 'node:crypto';

/** One object as a test wants S3 to announce it. `key` is the real key; the record form-encodes it. */
export interface AnnouncedObject {
  bucket: string;
  key: string;
  size?: number;
  etag?: string;
  versionId?: string;
  sequencer?: string;
  eventName?: string;
  eventTime?: string;
}

/**
 * S3 form-encodes keys in notification records (as application/x-www-form-urlencoded: a space is
 * `+`, a plus `%2B`, a slash stays a slash), as in the notification-content-structure page.
 */
export function formEncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** A record shaped like S3's own (event version 2.1), with the fields S3 fills in. */
export function s3Record(o: AnnouncedObject): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: o.eventTime ?? new Date().toISOString(),
    eventName: o.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLEPRINCIPAL' },
    requestParameters: { sourceIPAddress: '203.0.113.10' },
    responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(24).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'fileferry-outbound',
      bucket: { name: o.bucket, ownerIdentity: { principalId: 'A3EXAMPLEOWNER' }, arn: `arn:aws:s3:::${o.bucket}` },
      object: {
        key: formEncodeKey(o.key),
        ...(o.eventName?.startsWith('ObjectRemoved') ? {} : { size: o.size ?? 0, eTag: o.etag ?? randomBytes(16).toString('hex') }),
        ...(o.versionId ? { versionId: o.versionId } : {}),
        sequencer: o.sequencer ?? randomBytes(8).toString('hex').toUpperCase(),
      },
    },
  };
}

/** The body S3 itself puts on a queue. */
export function s3EventBody(...objects: AnnouncedObject[]): string {
  return JSON.stringify({ Records: objects.map(s3Record) });
}

/** The message S3 sends once when a notification configuration is saved. */
export function s3TestEventBody(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: randomBytes(8).toString('hex').toUpperCase(),
    HostId: randomBytes(24).toString('base64'),
  });
}

/** S3 → SNS → SQS without raw message delivery: the SQS body is SNS's JSON envelope. */
export function snsEnvelopeBody(innerBody: string, topicArn = 'arn:aws:sns:eu-west-1:123456789012:outbound-events'): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: topicArn,
    Subject: 'Amazon S3 Notification',
    Message: innerBody,
    Timestamp: new Date().toISOString(),
    SignatureVersion: '1',
    Signature: randomBytes(256).toString('base64'),
    SigningCertURL: `https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`,
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
  });
}

/** An EventBridge "Object Created" event as an SQS target receives it. */
export function eventBridgeBody(o: AnnouncedObject, detailType = 'Object Created'): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.s3',
    account: '123456789012',
    time: o.eventTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${o.bucket}`],
    detail: {
      version: '0',
      bucket: { name: o.bucket },
      object: {
        key: o.key,
        size: o.size ?? 0,
        etag: o.etag ?? randomBytes(16).toString('hex'),
        ...(o.versionId ? { 'version-id': o.versionId } : {}),
        sequencer: o.sequencer ?? randomBytes(8).toString('hex').toUpperCase(),
      },
      'request-id': randomBytes(8).toString('hex').toUpperCase(),
      requester: '123456789012',
      'source-ip-address': '203.0.113.10',
      reason: 'PutObject',
    },
  });
}
