import { strict as assert } from 'node:assert';
import { parseSha256Reply, planSha256 } from '../../src/adapters/destination/ftpRemoteHash';

const HEX = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';

describe('ftpRemoteHash', () => {
  it('prefers HASH when FEAT offers SHA-256, selecting it with OPTS HASH', () => {
    const plan = planSha256(new Map([['HASH', 'CRC32;MD5;SHA-1*;SHA-256;SHA-512;'], ['XSHA256', '']]), '/in/a b.csv');
    assert.deepEqual(plan, { kind: 'HASH', select: 'OPTS HASH SHA-256', command: 'HASH /in/a b.csv' });
  });

  it('falls back to XSHA256 with the path quoted (its arguments are split on spaces)', () => {
    assert.deepEqual(planSha256(new Map([['HASH', 'SHA-1*;MD5'], ['XSHA256', '']]), '/in/a b.csv'), {
      kind: 'XSHA256',
      command: 'XSHA256 "/in/a b.csv"',
    });
    assert.equal(planSha256(new Map([['XSHA256', '']]), '/in/say "hi".csv'), undefined, 'a quote cannot be sent quoted');
  });

  it('declines when the server offers neither (vsftpd)', () => {
    assert.equal(planSha256(new Map([['SIZE', ''], ['EPSV', ''], ['UTF8', '']]), '/in/a.csv'), undefined);
  });

  it("parses proftpd's multi-line HASH reply, checking algorithm and range", () => {
    const plan = planSha256(new Map([['HASH', 'SHA-256']]), '/x')!;
    const message = `213-Computing SHA-256 digest\n213 SHA-256 0-11 ${HEX.toUpperCase()} /in/a b.csv`;
    assert.equal(parseSha256Reply(plan, message, 11), HEX);
    assert.equal(parseSha256Reply(plan, message, 12), undefined, 'a range that is not the whole file');
    assert.equal(parseSha256Reply(plan, `213 SHA-1 0-11 ${HEX.slice(0, 40)} /x`, 11), undefined);
  });

  it('parses an XSHA256 reply', () => {
    const plan = planSha256(new Map([['XSHA256', '']]), '/x')!;
    assert.equal(parseSha256Reply(plan, `250-Computing SHA256 digest\n250 ${HEX.toUpperCase()}`), HEX);
    assert.equal(parseSha256Reply(plan, '250 not a digest'), undefined);
  });
});
