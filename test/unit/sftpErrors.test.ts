import { strict as assert } from 'node:assert';
import { HandshakeLog, SFTP_STATUS, isGenericFailure, mapConnectError, mapSftpError } from '../../src/adapters/destination/sftpErrors';
import { shellQuote } from '../../src/adapters/destination/sftpRemoteHash';

const op = { operation: 'write', path: '/in/a.csv', label: 'sftp://u@h:22' };
const status = (code: number, message: string): Error => Object.assign(new Error(message), { code });

describe('sftpErrors', () => {
  it('maps SFTP statuses to stable codes, naming the path and the server', () => {
    const cases: [Error, string, boolean][] = [
      [status(SFTP_STATUS.NO_SUCH_FILE, 'No such file'), 'NOT_FOUND', false],
      [status(SFTP_STATUS.PERMISSION_DENIED, 'Permission denied'), 'ACCESS_DENIED', false],
      [status(SFTP_STATUS.FAILURE, 'No space left on device'), 'DISK_FULL', false],
      [status(SFTP_STATUS.FAILURE, 'Disk quota exceeded'), 'DISK_FULL', false],
      [status(SFTP_STATUS.QUOTA_EXCEEDED, 'Quota'), 'DISK_FULL', false],
      [status(SFTP_STATUS.NO_SPACE_ON_FILESYSTEM, 'Full'), 'DISK_FULL', false],
      [status(SFTP_STATUS.FILE_ALREADY_EXISTS, 'Exists'), 'ALREADY_EXISTS', false],
      [status(SFTP_STATUS.OP_UNSUPPORTED, 'Unsupported'), 'UNSUPPORTED', false],
      [status(SFTP_STATUS.CONNECTION_LOST, 'Lost'), 'NETWORK', true],
      [status(SFTP_STATUS.FAILURE, 'Failure'), 'SERVER_ERROR', true],
      [new Error('No response from server'), 'NETWORK', true],
      [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'NETWORK', true],
    ];
    for (const [error, code, retryable] of cases) {
      const mapped = mapSftpError(error, op);
      assert.equal(mapped.code, code, error.message);
      assert.equal(mapped.retryable, retryable, error.message);
      assert.ok(mapped.message.includes('/in/a.csv') && mapped.message.includes('sftp://u@h:22'), mapped.message);
      assert.ok(mapped.hint.length > 0);
    }
  });

  it('tells a bare FAILURE from one that names a full disk', () => {
    assert.equal(isGenericFailure(status(SFTP_STATUS.FAILURE, 'Failure')), true);
    assert.equal(isGenericFailure(status(SFTP_STATUS.FAILURE, 'No space left on device')), false);
    assert.equal(isGenericFailure(status(SFTP_STATUS.PERMISSION_DENIED, 'Permission denied')), false);
  });

  it('maps authentication, timeout and socket errors from ssh2', () => {
    const context = { label: 'sftp://u@h:22', username: 'u' };
    const auth = mapConnectError(Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), context);
    assert.equal(auth.code, 'AUTH_FAILED');
    assert.equal(auth.retryable, false);
    const timeout = mapConnectError(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }), context);
    assert.equal(timeout.code, 'TIMEOUT');
    assert.equal(timeout.retryable, true);
    const refused = mapConnectError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', level: 'client-socket' }), context);
    assert.equal(refused.code, 'NETWORK');
    assert.equal(refused.retryable, true);
    assert.ok(refused.message.includes('ECONNREFUSED'));
  });

  it('lists what each side offered when the algorithm negotiation fails', () => {
    const log = new HandshakeLog();
    log.debug('Handshake: (local) KEX method: curve25519-sha256,ecdh-sha2-nistp256,ext-info-c,kex-strict-c-v00@openssh.com');
    log.debug('Handshake: (remote) KEX method: sntrup761x25519-sha512@openssh.com,kex-strict-s-v00@openssh.com');
    log.debug('Outbound: Sending CHANNEL_DATA (r:0, 100)');
    const error = mapConnectError(
      Object.assign(new Error('Handshake failed: no matching key exchange algorithm'), { level: 'handshake' }),
      { label: 'sftp://u@h:22', username: 'u', handshake: log },
    );
    assert.equal(error.code, 'ALGORITHM_MISMATCH');
    assert.equal(error.retryable, false);
    assert.match(error.message, /FileFerry offers curve25519-sha256, ecdh-sha2-nistp256; the server offers sntrup761x25519-sha512@openssh\.com\./);
  });

  it('shell-quotes paths for sha256sum, quotes included', () => {
    assert.equal(shellQuote('/in/a b.csv'), `'/in/a b.csv'`);
    assert.equal(shellQuote(`/in/it's $(rm -rf ~).csv`), `'/in/it'\\''s $(rm -rf ~).csv'`);
  });
});
