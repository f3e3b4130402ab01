import { strict as assert } from 'node:assert';
import { SnsCertificates } from '../../src/adapters/trigger/snsCertificates';
import { SnsReplayGuard } from '../../src/adapters/trigger/snsReplayGuard';
import { SnsTestSigner } from '../support/snsTestSigner';

describe('SNS replay guard and certificate cache', () => {
  it('remembers delivered IDs for the accepted age only, and never more than its bound', () => {
    let now = 1_000_000;
    const guard = new SnsReplayGuard(60_000, 3, () => now, 0);
    for (const id of ['a', 'b', 'c', 'd']) guard.markDelivered(id);
    assert.equal(guard.size, 3);
    assert.equal(guard.wasDelivered('a'), false, 'the oldest is forgotten first');
    assert.equal(guard.wasDelivered('d'), true);
    now += 60_001;
    assert.equal(guard.wasDelivered('d'), false);
    assert.equal(guard.size, 0);
  });

  it('judges a Timestamp: too old, in the future, invalid', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    const guard = new SnsReplayGuard(3600_000, 10, () => now);
    assert.equal(guard.ageProblem('2024-05-01T11:30:00.000Z'), undefined);
    assert.equal(guard.ageProblem('2024-05-01T10:59:59.000Z'), 'too old');
    assert.equal(guard.ageProblem('2024-05-01T12:10:00.000Z'), 'in the future');
    assert.equal(guard.ageProblem('yesterday'), 'invalid');
  });

  it('caches a good certificate, never a failed fetch or an error page', async () => {
    const signer = new SnsTestSigner();
    const answers: Array<() => Promise<string>> = [
      async () => { throw new Error('HTTP 503 for the signing certificate'); },
      async () => '<html>Service Unavailable</html>',
      async () => signer.certificatePem,
    ];
    let calls = 0;
    const certs = new SnsCertificates(async () => answers[calls++]!());
    await assert.rejects(certs.get(signer.certUrl), /503/);
    await assert.rejects(certs.get(signer.certUrl));
    const [a, b] = await Promise.all([certs.get(signer.certUrl), certs.get(signer.certUrl)]);
    assert.equal(a, b);
    await certs.get(signer.certUrl);
    assert.equal(calls, 3, 'one fetch per failure, then one for the good certificate, shared and cached');
  });
});
