import { readFile, readdir } from 'node:fs/promises';
import { SftpDestination, type SftpDestinationOptions } from '../../src/adapters/destination/sftpDestination';
import { destinationConformance, type DestinationFixture } from './destinationSuite';
import { FaultProxy } from '../support/faultProxy';
import { startSshd, type SshdServer } from '../support/sshdServer';

/**
 * The shared destination suite against Debian's OpenSSH sshd. The server runs on this machine, so
 * the fixture reads the server's disk directly to check what the adapter wrote; faults go through
 * a real TCP proxy in front of sshd.
 */
describe('SftpDestination (OpenSSH sshd)', function () {
  let sshd: SshdServer;
  let fixture: DestinationFixture;

  before(async () => {
    sshd = await startSshd();
    const options = (port: number): SftpDestinationOptions => ({
      host: '127.0.0.1',
      port,
      username: sshd.user,
      // Key authentication: the test account's password is reset by every test process that
      // calls ensureTestUser(); password logins are covered by the integration tests.
      privateKey: sshd.userKey.privateKey,
      hostKey: { fingerprint: sshd.hostKeyFingerprint },
      allowRemoteHash: true,
    });
    fixture = {
      destination: new SftpDestination(options(sshd.port)),
      root: sshd.rootDir,
      readServerFile: (path) => readFile(path),
      listServerDir: async (path) => (await readdir(path)).sort(),
      withFault: async (rule) => {
        const proxy = await FaultProxy.start(sshd.port);
        proxy.setFault(rule);
        return { destination: new SftpDestination(options(proxy.port)), close: () => proxy.close() };
      },
    };
  });
  after(async () => {
    await sshd?.stop();
  });

  destinationConformance('sftp (OpenSSH)', () => fixture);
});
