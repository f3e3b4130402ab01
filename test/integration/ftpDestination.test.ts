import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'basic-ftp';
import { FtpDestination, type FtpDestinationOptions } from '../../src/adapters/destination/ftpDestination';
import type { FtpSession } from '../../src/adapters/destination/ftpSession';
import { parseSha256Reply, planSha256 } from '../../src/adapters/destination/ftpRemoteHash';
import { LocalSource } from '../../src/adapters/source/localSource';
import { canHashRemotely, hasLoginFolder, type DestinationSession } from '../../src/ports/destination';
import { runTransfer } from '../../src/transfer/engine';
import { expectFailure } from '../support/expectFailure';
import { FtpFaultProxy } from '../support/ftpFaultProxy';
import type { FtpTestServer } from '../support/ftpTestServer';
import { startProftpd } from '../support/proftpdServer';
import { tempDir } from '../support/tmp';
import { startVsftpd } from '../support/vsftpdServer';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function* chunksOf(body: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

/** Protocol-log lines of commands the server received (vsftpd and proftpd log formats). */
function commands(log: string, verb: string): string[] {
  return log.split('\n').filter((line) => new RegExp(`(FTP command: Client "[^"]*", "|\\d ,?)${verb}\\b`).test(line) || line.includes(` ${verb} `));
}

describe('FtpDestination against real vsftpd and proftpd', function () {
  let ftps: FtpTestServer;
  let plain: FtpTestServer;
  let selfSigned: FtpTestServer;
  let proftpd: FtpTestServer;
  let n = 0;

  before(async () => {
    [ftps, plain, selfSigned, proftpd] = await Promise.all([
      startVsftpd({ tls: true }),
      startVsftpd(),
      startVsftpd({ tls: true, certificate: 'self' }),
      startProftpd(),
    ]);
  });
  after(async () => {
    await Promise.all([ftps, plain, selfSigned, proftpd].map((s) => s?.stop()));
  });

  function options(server: FtpTestServer, extra: Partial<FtpDestinationOptions> = {}): FtpDestinationOptions {
    const tls = server.caPem !== undefined;
    return {
      protocol: tls ? 'ftps' : 'ftp',
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      ca: server.caPem,
      allowPlaintext: !tls,
      ...extra,
    };
  }

  /** A fresh folder on the server for one test. */
  async function folder(session: DestinationSession, server: FtpTestServer): Promise<string> {
    const dir = `${server.rootDir}/i${++n}-${randomBytes(3).toString('hex')}`;
    await session.ensureDir(dir);
    return dir;
  }

  async function withSession<T>(destination: FtpDestination, work: (s: FtpSession) => Promise<T>): Promise<T> {
    const session = (await destination.connect()) as FtpSession;
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  describe('connecting', () => {
    it('logs in over explicit FTPS with a custom CA, data connections protected (PROT P)', async () => {
      const destination = new FtpDestination(options(ftps));
      assert.equal(destination.label, `ftps://${ftps.user}@127.0.0.1:${ftps.port}`);
      await withSession(destination, async (session) => {
        assert.ok(hasLoginFolder(session));
        assert.equal(await session.loginFolder(), `/home/${ftps.user}`);
        const dir = await folder(session, ftps);
        await session.write(`${dir}/a.txt`, chunksOf(Buffer.from('over TLS')), { offset: 0 });
        assert.equal(await readFile(`${dir}/a.txt`, 'utf8'), 'over TLS');
      });
      const log = await ftps.logText();
      assert.ok(log.includes('"AUTH TLS"') && log.includes('"200 PROT now Private."'), 'AUTH TLS and PROT P were negotiated');
    });

    it('a wrong password fails with AUTH_FAILED, not retryable, naming the host and never the password', async () => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const error = await expectFailure(new FtpDestination(options(ftps, { password: wrong })).connect(), { code: 'AUTH_FAILED' });
      assert.equal(error.retryable, false);
      assert.ok(error.message.includes('127.0.0.1'), error.message);
      assert.ok(!error.message.includes(wrong) && !JSON.stringify(error.toJSON()).includes(wrong));
      assert.ok(error.hint.length > 0);
    });

    it('plain FTP without policy consent is refused with PLAINTEXT_NOT_ALLOWED before any connection', async () => {
      let connections = 0;
      const listener = createServer((s) => { connections++; s.destroy(); });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      try {
        const port = (listener.address() as { port: number }).port;
        const error = await expectFailure(
          (async () => new FtpDestination({ protocol: 'ftp', host: '127.0.0.1', port, username: 'u', password: 'p' }).connect())(),
          { code: 'PLAINTEXT_NOT_ALLOWED' },
        );
        assert.ok(error.hint.length > 0);
        assert.equal(connections, 0);
      } finally {
        listener.close();
      }
      // With consent, plain FTP works.
      await withSession(new FtpDestination(options(plain)), async (session) => {
        assert.equal((await session.stat(plain.rootDir))?.isDirectory, true);
      });
    });

    it('a self-signed certificate the CA did not issue fails with TLS_CERT_INVALID before USER is sent', async () => {
      const error = await expectFailure(new FtpDestination(options(selfSigned)).connect(), { code: 'TLS_CERT_INVALID' });
      assert.match(error.hint, /caFile.*--ca/);
      assert.equal(error.retryable, false);
      const log = await selfSigned.logText();
      assert.ok(log.includes('"AUTH TLS"'), 'the client asked for TLS');
      assert.deepEqual(commands(log, 'USER'), [], 'no user name reached the server');
      assert.deepEqual(commands(log, 'PASS'), []);
    });

    it('a certificate for another host name, or from a CA not given, fails with TLS_CERT_INVALID before USER', async () => {
      const usersBefore = commands(await ftps.logText(), 'USER').length;
      await expectFailure(new FtpDestination(options(ftps, { servername: 'files.example.org' })).connect(), { code: 'TLS_CERT_INVALID' });
      await expectFailure(new FtpDestination(options(ftps, { ca: undefined })).connect(), { code: 'TLS_CERT_INVALID' });
      assert.equal(commands(await ftps.logText(), 'USER').length, usersBefore);
    });

    it('FTPS to a server without AUTH TLS is refused (never downgraded) before USER', async () => {
      const error = await expectFailure(new FtpDestination({ ...options(proftpd), protocol: 'ftps', allowPlaintext: false }).connect(), { code: 'UNSUPPORTED' });
      assert.match(error.message, /AUTH TLS/);
      assert.ok(!(await proftpd.logText()).split('\n').some((l) => l.includes('AUTH TLS') && /USER/.test(l)));
    });

    it('a refused connection fails with NETWORK, retryable', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      const error = await expectFailure(new FtpDestination(options(ftps, { port })).connect(), { code: 'NETWORK' });
      assert.equal(error.retryable, true);
    });
  });

  describe('writing', () => {
    for (const which of ['vsftpd FTPS', 'proftpd'] as const) {
      it(`STOR then APPE at the server's size gives identical bytes (${which})`, async () => {
        const server = which === 'proftpd' ? proftpd : ftps;
        const body = randomBytes(2 * 1024 * 1024 + 77);
        const half = 1_000_003;
        await withSession(new FtpDestination(options(server)), async (session) => {
          assert.equal(session.resumeMode, 'append');
          const dir = await folder(session, server);
          const acks: number[] = [];
          await session.write(`${dir}/r.bin`, chunksOf(body.subarray(0, half)), { offset: 0, onAcknowledged: (a) => acks.push(a) });
          assert.deepEqual(acks, [half], 'one acknowledgement, at the end');
          assert.equal((await session.stat(`${dir}/r.bin`))?.size, half);
          await session.write(`${dir}/r.bin`, chunksOf(body.subarray(half)), { offset: half });
          assert.equal(sha(await readFile(`${dir}/r.bin`)), sha(body));
        });
      });
    }

    it('refuses to append at an offset the server does not hold, leaving the file as it was', async () => {
      await withSession(new FtpDestination(options(ftps)), async (session) => {
        const dir = await folder(session, ftps);
        await session.write(`${dir}/p.bin`, chunksOf(Buffer.from('0123456789')), { offset: 0 });
        const error = await expectFailure(session.write(`${dir}/p.bin`, chunksOf(Buffer.from('xyz')), { offset: 4 }), { code: 'SERVER_ERROR' });
        assert.equal(error.retryable, true);
        await expectFailure(session.write(`${dir}/missing.bin`, chunksOf(Buffer.from('xyz')), { offset: 4 }), { code: 'NOT_FOUND' });
        assert.equal(await readFile(`${dir}/p.bin`, 'utf8'), '0123456789');
      });
    });

    it('rename with replace never deletes the target when the source is missing', async () => {
      await withSession(new FtpDestination(options(ftps)), async (session) => {
        const dir = await folder(session, ftps);
        await session.write(`${dir}/keep.txt`, chunksOf(Buffer.from('precious')), { offset: 0 });
        await expectFailure(session.rename(`${dir}/missing.txt`, `${dir}/keep.txt`, { replace: true }), { code: 'NOT_FOUND' });
        assert.equal(await readFile(`${dir}/keep.txt`, 'utf8'), 'precious');
      });
    });

    for (const which of ['vsftpd FTPS', 'proftpd'] as const) {
      it(`a data connection cut mid-upload fails with NETWORK (retryable), and the server's SIZE is where the resume starts (${which})`, async () => {
        const server = which === 'proftpd' ? proftpd : ftps;
        const body = randomBytes(4 * 1024 * 1024);
        const cutAfter = 1024 * 1024;
        const proxy = await FtpFaultProxy.start(server);
        try {
          proxy.setFault({ action: 'cut', afterBytes: cutAfter });
          const viaProxy = new FtpDestination(options(server, { host: proxy.host, port: proxy.port, servername: server.caPem ? 'localhost' : undefined }));
          let dir = '';
          await withSession(viaProxy, async (session) => {
            dir = await folder(session, server);
            const error = await expectFailure(session.write(`${dir}/cut.bin`, chunksOf(body), { offset: 0 }), { code: 'NETWORK' });
            assert.equal(error.retryable, true);
          });
          assert.equal(proxy.faultsFired, 1);
          await withSession(new FtpDestination(options(server)), async (session) => {
            const held = (await session.stat(`${dir}/cut.bin`))!.size;
            assert.equal(held, (await stat(`${dir}/cut.bin`)).size, 'SIZE reports what is on disk');
            // What reached the server before the cut, at most: it may have stopped early when the client's control connection closed.
            assert.ok(held <= cutAfter, `held ${held} of at most ${cutAfter} forwarded bytes`);
            await session.write(`${dir}/cut.bin`, chunksOf(body.subarray(held)), { offset: held });
            assert.equal(sha(await readFile(`${dir}/cut.bin`)), sha(body));
          });
        } finally {
          await proxy.close();
        }
      });
    }

    it('a data connection that stalls fails with TIMEOUT (retryable) after the idle timeout, with no total limit', async () => {
      const proxy = await FtpFaultProxy.start(plain);
      try {
        proxy.setFault({ action: 'stall', afterBytes: 64 * 1024 });
        const viaProxy = new FtpDestination(options(plain, { host: proxy.host, port: proxy.port, idleTimeoutMs: 1000, keepaliveIntervalMs: 200 }));
        await withSession(viaProxy, async (session) => {
          const dir = await folder(session, plain);
          const error = await expectFailure(session.write(`${dir}/stall.bin`, chunksOf(randomBytes(1024 * 1024)), { offset: 0 }), { code: 'TIMEOUT' });
          assert.equal(error.retryable, true);
        });
      } finally {
        await proxy.close();
      }
    });

    for (const which of ['proftpd', 'vsftpd FTPS'] as const) {
      it(`keepalive NOOPs during a slow upload leave the replies in step (${which})`, async () => {
        const server = which === 'proftpd' ? proftpd : ftps;
        const body = randomBytes(300 * 1024);
        async function* slow(): AsyncGenerator<Buffer> {
          for (let i = 0; i < body.length; i += 30 * 1024) {
            await new Promise((r) => setTimeout(r, 40));
            yield body.subarray(i, i + 30 * 1024);
          }
        }
        await withSession(new FtpDestination(options(server, { keepaliveIntervalMs: 15 })), async (session) => {
          const dir = await folder(session, server);
          await session.write(`${dir}/slow.bin`, slow(), { offset: 0 });
          assert.ok(session.keepaliveNoopsSent > 0, 'NOOPs were sent during the transfer');
          assert.deepEqual(await session.stat(`${dir}/slow.bin`), { size: body.length, isDirectory: false });
          await session.rename(`${dir}/slow.bin`, `${dir}/done.bin`, { replace: false });
          assert.equal(await session.stat(`${dir}/slow.bin`), undefined);
          assert.equal(sha(await readFile(`${dir}/done.bin`)), sha(body));
        });
        assert.ok(commands(await server.logText(), 'NOOP').length > 0, 'the server saw the NOOPs');
      });
    }

    it('uploads under unicode and space-laden names (UTF-8 on the wire)', async () => {
      await withSession(new FtpDestination(options(ftps)), async (session) => {
        const dir = await folder(session, ftps);
        const sub = `${dir}/Überweisungen 2024 — été`;
        await session.ensureDir(sub);
        const path = `${sub}/relevé n°1 ✓ 日本.csv`;
        await session.write(path, chunksOf(Buffer.from('a;b\n')), { offset: 0 });
        assert.deepEqual(await session.stat(path), { size: 4, isDirectory: false });
        // The name on the server's disk is the UTF-8 name, byte for byte.
        assert.deepEqual(await readdir(sub), ['relevé n°1 ✓ 日本.csv']);
        assert.equal(await readFile(join(sub, 'relevé n°1 ✓ 日本.csv'), 'utf8'), 'a;b\n');
      });
    });

    it('a full engine transfer never sends SITE CHMOD or MFMT, and ensureDir leaves the session in the login folder', async () => {
      const src = await tempDir('ftp-src');
      try {
        await mkdir(join(src.path, 'bucket'));
        await writeFile(join(src.path, 'bucket', 'r.csv'), randomBytes(100_000));
        const destination = new FtpDestination(options(plain));
        const dir = `${plain.rootDir}/engine-${randomBytes(3).toString('hex')}/deep/er`;
        const result = await runTransfer({
          source: new LocalSource(src.path), container: 'bucket', key: 'r.csv', destination, remotePath: `${dir}/r.csv`, overwrite: 'fail',
        });
        assert.equal(result.verification, 'size', 'vsftpd offers no server-side hash');
        const log = await plain.logText();
        assert.deepEqual([...commands(log, 'SITE'), ...commands(log, 'MFMT'), ...commands(log, 'MDTM')], []);
        // Follow the session's working folder through the protocol log: every CWD that succeeded.
        let cwd = `/home/${plain.user}`;
        let asked: string | undefined;
        let changes = 0;
        for (const line of log.split('\n')) {
          const command = /FTP command: Client "[^"]*", "CWD (.*)"$/.exec(line);
          const response = /FTP response: Client "[^"]*", "(\d{3})/.exec(line);
          if (command) asked = command[1];
          else if (response && asked !== undefined) {
            if (response[1] === '250') { cwd = asked; changes++; }
            asked = undefined;
          }
        }
        assert.ok(changes > 0, 'folder checks used CWD (vsftpd has no MLST)');
        assert.equal(cwd, `/home/${plain.user}`, 'the session is back in the login folder');
      } finally {
        await src.remove();
      }
    });
  });

  describe("the server's own SHA-256", () => {
    it('proftpd (mod_digest HASH) answers the real SHA-256, and the engine verifies with it', async () => {
      const body = randomBytes(3 * 1024 * 1024 + 5);
      await withSession(new FtpDestination(options(proftpd)), async (session) => {
        assert.ok(canHashRemotely(session));
        const dir = await folder(session, proftpd);
        const path = `${dir}/données du jour ✓.bin`;
        await session.write(path, chunksOf(body), { offset: 0 });
        assert.equal(await session.remoteSha256(path), sha(body));
        await expectFailure(session.remoteSha256(`${dir}/missing.bin`), { code: 'NOT_FOUND' });
      });
      const src = await tempDir('ftp-src');
      try {
        await mkdir(join(src.path, 'bucket'));
        await writeFile(join(src.path, 'bucket', 'h.bin'), body);
        const result = await runTransfer({
          source: new LocalSource(src.path), container: 'bucket', key: 'h.bin', destination: new FtpDestination(options(proftpd)),
          remotePath: `${proftpd.rootDir}/hashed-${randomBytes(3).toString('hex')}.bin`, overwrite: 'fail',
        });
        assert.equal(result.verification, 'size+server-hash');
        assert.equal(result.sha256, sha(body));
      } finally {
        await src.remove();
      }
    });

    it('the XSHA256 fallback (quoted path) parses against real proftpd', async () => {
      const client = new Client(10_000);
      try {
        await client.access({ host: proftpd.host, port: proftpd.port, user: proftpd.user, password: proftpd.password });
        const path = `${proftpd.rootDir}/x sha ${randomBytes(3).toString('hex')}.txt`;
        await writeFile(path, 'hello world');
        const plan = planSha256(new Map([['XSHA256', '']]), path)!;
        assert.equal(plan.kind, 'XSHA256');
        const reply = await client.send(plan.command);
        assert.equal(parseSha256Reply(plan, reply.message), sha(Buffer.from('hello world')));
      } finally {
        client.close();
      }
    });

    it('vsftpd offers none (undefined), and allowRemoteHash: false declines on proftpd too', async () => {
      await withSession(new FtpDestination(options(ftps)), async (session) => {
        const dir = await folder(session, ftps);
        await session.write(`${dir}/v.bin`, chunksOf(Buffer.from('v')), { offset: 0 });
        assert.equal(await session.remoteSha256(`${dir}/v.bin`), undefined);
      });
      await withSession(new FtpDestination(options(proftpd, { allowRemoteHash: false })), async (session) => {
        const dir = await folder(session, proftpd);
        await session.write(`${dir}/p.bin`, chunksOf(Buffer.from('p')), { offset: 0 });
        assert.equal(await session.remoteSha256(`${dir}/p.bin`), undefined);
      });
    });
  });
});
