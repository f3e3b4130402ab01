import { readFile, readdir } from 'node:fs/promises';
import { FtpDestination, type FtpDestinationOptions } from '../../src/adapters/destination/ftpDestination';
import { destinationConformance, type DestinationFixture } from './destinationSuite';
import { FtpFaultProxy } from '../support/ftpFaultProxy';
import type { FtpTestServer } from '../support/ftpTestServer';
import { startProftpd } from '../support/proftpdServer';
import { startVsftpd } from '../support/vsftpdServer';

/**
 * The shared Destination suite against real FTP servers: vsftpd over explicit FTPS (certificate
 * issued by a CA generated for the run), vsftpd over plain FTP (with the policy consent plain FTP
 * needs) and proftpd with mod_digest (so the engine's server-side hash check runs too). Faults are
 * injected on the passive data connections by FtpFaultProxy. FTP paths are the servers' real
 * absolute paths (no chroot), so the suite reads the server's disk directly.
 */
function register(name: string, start: () => Promise<FtpTestServer>, protocol: 'ftp' | 'ftps'): void {
  describe(`FtpDestination on ${name}`, function () {
    let server: FtpTestServer;
    let fixture: DestinationFixture;

    before(async function () {
      server = await start();
      const options = (host: string, port: number, servername?: string): FtpDestinationOptions => ({
        protocol,
        host,
        port,
        username: server.user,
        password: server.password,
        ca: server.caPem,
        servername,
        allowPlaintext: protocol === 'ftp',
      });
      fixture = {
        destination: new FtpDestination(options(server.host, server.port)),
        root: server.rootDir,
        readServerFile: (path) => readFile(path),
        listServerDir: async (path) => (await readdir(path)).sort(),
        withFault: async (rule) => {
          const proxy = await FtpFaultProxy.start(server);
          proxy.setFault(rule);
          return {
            destination: new FtpDestination(options(proxy.host, proxy.port, protocol === 'ftps' ? 'localhost' : undefined)),
            close: () => proxy.close(),
          };
        },
      };
    });
    after(async () => {
      await server?.stop();
    });

    destinationConformance(name, () => fixture);
  });
}

register('vsftpd (explicit FTPS)', () => startVsftpd({ tls: true }), 'ftps');
register('vsftpd (plain FTP, allowed by policy)', () => startVsftpd(), 'ftp');
register('proftpd with mod_digest (plain FTP, allowed by policy)', () => startProftpd(), 'ftp');
