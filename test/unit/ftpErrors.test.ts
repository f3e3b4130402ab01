import { strict as assert } from 'node:assert';
import { FTPError } from 'basic-ftp';
import { mapFtpError } from '../../src/adapters/destination/ftpErrors';
import { SourceError } from '../../src/domain/errors';

const context = { label: 'ftps://u@files.example:21', action: 'upload to /in/a.csv', secret: 'hunter2-secret' };
const reply = (code: number, text: string): FTPError => new FTPError({ code, message: `${code} ${text}` });
const errno = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('mapFtpError', () => {
  it('maps reply codes to stable error codes with the right retry flag', () => {
    const cases: Array<[FTPError, string, boolean]> = [
      [reply(530, 'Login incorrect.'), 'AUTH_FAILED', false],
      [reply(550, '/in/a.csv: No such file or directory'), 'NOT_FOUND', false],
      [reply(550, '/root: Permission denied'), 'ACCESS_DENIED', false],
      [reply(553, 'Could not create file.'), 'ACCESS_DENIED', false],
      [reply(552, 'Exceeded storage allocation'), 'DISK_FULL', false],
      [reply(452, 'Insufficient storage space'), 'DISK_FULL', false],
      [reply(421, 'Timeout.'), 'SERVER_ERROR', true],
      [reply(425, "Can't open data connection."), 'NETWORK', true],
      [reply(426, 'Failure reading network stream.'), 'NETWORK', true],
      [reply(451, 'Local error in processing.'), 'SERVER_ERROR', true],
      [reply(502, 'Command not implemented.'), 'UNSUPPORTED', false],
    ];
    for (const [error, code, retryable] of cases) {
      const mapped = mapFtpError(error, context);
      assert.equal(mapped.code, code, error.message);
      assert.equal(mapped.retryable, retryable, error.message);
      assert.equal(mapped.area, 'destination');
      assert.ok(mapped.hint.length > 0, `hint for ${error.message}`);
      assert.ok(mapped.message.includes('files.example') && mapped.message.includes('/in/a.csv'), mapped.message);
    }
  });

  it('reads a bare 550 (vsftpd says only "failed") by what the command implies', () => {
    const bare = reply(550, 'Delete operation failed.');
    assert.equal(mapFtpError(bare, { ...context, when550: 'NOT_FOUND' }).code, 'NOT_FOUND');
    assert.equal(mapFtpError(bare, { ...context, when550: 'ACCESS_DENIED' }).code, 'ACCESS_DENIED');
  });

  it('maps certificate failures to TLS_CERT_INVALID with a hint about the ca option', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']) {
      const mapped = mapFtpError(errno(code, `certificate problem ${code}`), context);
      assert.equal(mapped.code, 'TLS_CERT_INVALID', code);
      assert.equal(mapped.retryable, false);
      assert.match(mapped.hint, /caFile.*--ca/);
    }
  });

  it('maps socket failures to NETWORK and basic-ftp timeouts to TIMEOUT, both retryable', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']) {
      const mapped = mapFtpError(errno(code), context);
      assert.deepEqual([mapped.code, mapped.retryable], ['NETWORK', true], code);
    }
    assert.deepEqual(
      [mapFtpError(new Error('Timeout (data socket)'), context).code, mapFtpError(new Error('Timeout (control socket)'), context).retryable],
      ['TIMEOUT', true],
    );
    assert.equal(mapFtpError(new Error('Server sent FIN packet unexpectedly, closing connection.'), context).code, 'NETWORK');
    assert.deepEqual([mapFtpError(errno('ENOTFOUND'), context).code, mapFtpError(errno('ENOTFOUND'), context).retryable], ['NETWORK', false]);
  });

  it('never lets the password into a message, even when a server echoes it', () => {
    const mapped = mapFtpError(reply(530, 'Login incorrect for password hunter2-secret'), context);
    assert.ok(!mapped.message.includes('hunter2-secret'), mapped.message);
    assert.ok(!JSON.stringify(mapped.toJSON()).includes('hunter2-secret'));
  });

  it('passes FileFerry errors through unchanged (a source failure stays a source failure)', () => {
    const original = new SourceError('NETWORK', 'S3 dropped the connection.');
    assert.equal(mapFtpError(original, context), original);
  });
});
