import { strict as assert } from 'node:assert';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SftpDestination } from '../../src/adapters/destination/sftpDestination';
import { preflight } from '../../src/workflow/preflight';
import { ConnectionLimitProxy } from '../support/connectionLimitProxy';
import { startSshd, type SshdServer } from '../support/sshdServer';

/** "Test connection" for a saved SFTP destination that stripes (`connections` above 1), on OpenSSH sshd. */
describe('preflight: a striping destination is tried over a second connection', function () {
  this.timeout(60_000);
  let sshd: SshdServer;

  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  function sftp(port: number): SftpDestination {
    return new SftpDestination({ host: '127.0.0.1', port, username: sshd.user, privateKey: sshd.userKey.privateKey, hostKey: { fingerprint: sshd.hostKeyFingerprint } });
  }

  it('writes past the probe over a second connection, says several connections will be used, and leaves nothing', async () => {
    const folder = join(sshd.rootDir, 'striping-ok');
    const steps = await preflight(sftp(sshd.port), folder, undefined, { connections: 4 });
    assert.ok(steps.every((s) => s.ok), JSON.stringify(steps));
    const striping = steps.find((s) => s.step === 'Write over a second connection');
    assert.equal(striping?.detail, 'OK: large files go over several connections.');
    assert.deepEqual(steps.map((s) => s.step).slice(-2), ['Write over a second connection', 'Remove the probe file']);
    assert.deepEqual(await readdir(folder), [], 'the probe is gone');
  });

  it('a server that takes one connection at a time: the step says transfers use one connection, and the test still passes', async () => {
    const proxy = await ConnectionLimitProxy.start(sshd.port, 1);
    try {
      const folder = join(sshd.rootDir, 'striping-one');
      const steps = await preflight(sftp(proxy.port), folder, undefined, { connections: 4 });
      assert.ok(steps.every((s) => s.ok), 'one connection is not a failure: transfers fall back by themselves');
      const striping = steps.find((s) => s.step === 'Write over a second connection');
      assert.match(striping?.detail ?? '', /^One connection only \(.+\); transfers here use one connection\.$/);
      assert.equal(proxy.refused, 1, 'the second login was tried and refused');
      assert.deepEqual(await readdir(folder), [], 'the probe is gone');
    } finally {
      await proxy.close();
    }
  });

  it('without connections (the default) no second connection is opened', async () => {
    const proxy = await ConnectionLimitProxy.start(sshd.port, 4);
    try {
      const steps = await preflight(sftp(proxy.port), join(sshd.rootDir, 'striping-none'));
      assert.ok(!steps.some((s) => s.step === 'Write over a second connection'));
      assert.equal(proxy.accepted, 1);
    } finally {
      await proxy.close();
    }
  });
});
