import { strict as assert } from 'node:assert';
import { decodeS3EventKey, orderBySequencer, parseS3EventBody } from '../../src/adapters/trigger/s3EventRecords';
import type { ObjectEvent } from '../../src/ports/objectEvents';
import { eventBridgeBody, formEncodeKey, s3EventBody, s3TestEventBody, snsEnvelopeBody } from '../support/s3EventMessages';

function eventsOf(body: string, via: ObjectEvent['via'] = 'sqs'): ObjectEvent[] {
  const parsed = parseS3EventBody(body, via);
  assert.equal(parsed.kind, 'events', JSON.stringify(parsed));
  return parsed.kind === 'events' ? parsed.events : [];
}

describe('S3 event records', () => {
  it('reads a raw S3 record: decoded key, version, unquoted ETag, size, sequencer and time', () => {
    const body = s3EventBody({
      bucket: 'outbound',
      key: 'partner a/report 2024+final.csv',
      size: 1234,
      etag: '9b2cf535f27731c974343645a3985328',
      versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
      sequencer: '0055AED6DCD90281E5',
      eventTime: '2024-05-01T10:11:12.123Z',
    });
    assert.match(body, /partner\+a\/report\+2024%2Bfinal\.csv/);
    assert.deepEqual(eventsOf(body), [
      {
        scheme: 's3',
        container: 'outbound',
        key: 'partner a/report 2024+final.csv',
        via: 'sqs',
        versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
        etag: '9b2cf535f27731c974343645a3985328',
        size: 1234,
        sequencer: '0055AED6DCD90281E5',
        eventTime: '2024-05-01T10:11:12.123Z',
      },
    ]);
  });

  it('decodes + as a space and %2B as a plus, and other escapes (unicode, =, :)', () => {
    for (const key of ['a b.txt', 'c++/lib (1).tar.gz', 'dt=2024-05-01/10:47:07.log', 'Überweisung €.pdf', '%literal%.txt']) {
      assert.equal(decodeS3EventKey(formEncodeKey(key)), key);
    }
    assert.equal(decodeS3EventKey('red+flower.jpg'), 'red flower.jpg');
  });

  it('strips the quotes from a quoted ETag and drops the "null" version of an unversioned bucket', () => {
    const body = JSON.parse(s3EventBody({ bucket: 'b', key: 'k', etag: 'abc' }));
    body.Records[0].s3.object.eTag = '"d41d8cd98f00b204e9800998ecf8427e"';
    body.Records[0].s3.object.versionId = 'null';
    const [event] = eventsOf(JSON.stringify(body));
    assert.equal(event!.etag, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(event!.versionId, undefined);
  });

  it('skips s3:TestEvent', () => {
    assert.deepEqual(parseS3EventBody(s3TestEventBody('outbound'), 'sqs'), { kind: 'test' });
  });

  it('ignores removals and other non-creation records, and counts them', () => {
    const parsed = parseS3EventBody(
      s3EventBody(
        { bucket: 'b', key: 'gone.csv', eventName: 'ObjectRemoved:Delete' },
        { bucket: 'b', key: 'new.csv', eventName: 'ObjectCreated:CompleteMultipartUpload', size: 10 },
        { bucket: 'b', key: 'tagged.csv', eventName: 'ObjectTagging:Put' },
      ),
      'sqs',
    );
    assert.equal(parsed.kind, 'events');
    if (parsed.kind !== 'events') return;
    assert.deepEqual(parsed.events.map((e) => e.key), ['new.csv']);
    assert.equal(parsed.ignored, 2);
  });

  it('unwraps an SNS envelope whose Message is the S3 JSON, and an SNS-wrapped TestEvent', () => {
    const [event] = eventsOf(snsEnvelopeBody(s3EventBody({ bucket: 'outbound', key: 'in box/a+b.txt', size: 5 })));
    assert.equal(event!.key, 'in box/a+b.txt');
    assert.equal(event!.container, 'outbound');
    assert.deepEqual(parseS3EventBody(snsEnvelopeBody(s3TestEventBody('outbound')), 'sqs'), { kind: 'test' });
  });

  it('reads an EventBridge Object Created event, whose key is not form-encoded', () => {
    const [event] = eventsOf(
      eventBridgeBody({ bucket: 'outbound', key: 'a+b c.txt', size: 7, versionId: 'v1', etag: 'e1', sequencer: '00617F08299329D189' }),
    );
    assert.deepEqual(
      { key: event!.key, size: event!.size, versionId: event!.versionId, etag: event!.etag, sequencer: event!.sequencer },
      { key: 'a+b c.txt', size: 7, versionId: 'v1', etag: 'e1', sequencer: '00617F08299329D189' },
    );
    const deleted = parseS3EventBody(eventBridgeBody({ bucket: 'outbound', key: 'x' }, 'Object Deleted'), 'sqs');
    assert.deepEqual(deleted, { kind: 'events', events: [], ignored: 1 });
  });

  it('says why a body is not an S3 event', () => {
    const reasons = ['not json', '[1,2]', '{"hello":1}', '{"Type":"Notification","Message":"{oops"}', '{"Records":[{"eventName":"ObjectCreated:Put","eventSource":"aws:s3","s3":{}}]}']
      .map((body) => parseS3EventBody(body, 'sqs'))
      .map((p) => (p.kind === 'unrecognised' ? p.reason : `parsed as ${p.kind}`));
    assert.deepEqual(reasons, [
      'the body is not JSON',
      'the body is not a JSON object',
      'no Records, SNS Message or EventBridge detail',
      'the SNS Message is not JSON',
      'record 0 has no s3.bucket.name or s3.object.key',
    ]);
    const bad = JSON.parse(s3EventBody({ bucket: 'b', key: 'k' }));
    bad.Records[0].s3.object.key = '100%zz';
    assert.equal(parseS3EventBody(JSON.stringify(bad), 'sqs').kind, 'unrecognised');
  });

  it('orders the events of one key by sequencer (padded), keeping keys in first-seen order', () => {
    const e = (key: string, sequencer?: string): { event: ObjectEvent } => ({ event: { scheme: 's3', container: 'b', key, sequencer, via: 'sqs' } });
    const groups = orderBySequencer([e('a', '0055AED6DCD90281E6'), e('b', '01'), e('a', '0055AED6DCD90281E5'), e('a', '0055AED6DCD90281E5FF'), e('a')]);
    assert.deepEqual(
      groups.map((g) => g.map((i) => `${i.event.key}:${i.event.sequencer ?? '-'}`)),
      [['a:0055AED6DCD90281E5', 'a:0055AED6DCD90281E5FF', 'a:0055AED6DCD90281E6', 'a:-'], ['b:01']],
    );
  });
});
