import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sinon from 'sinon';
import type { SFTPWrapper } from 'ssh2';
import { FerryError } from '../../src/domain/errors';
import { canHashRemotely, hasLoginFolder, type DestinationSession } from '../../src/ports/destination';
import { SftpDestination, type SftpDestinationOptions } from '../../src/adapters/destination/sftpDestination';
import type { SftpSession } from '../../src/adapters/destination/sftpSession';
import { expectFailure } from '../support/expectFailure';
import { FaultProxy } from '../support/faultProxy';
import { freePort } from '../support/ports';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

const run = promisify(execFile);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function* chunked(body: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield body.subarray(at, at + size);
    at += size;
  }
}

/** Waits until sshd has logged the end of a connection's pre-authentication phase. */
async function logUntil(sshd: SshdServer, mark: number, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = sshd.logSince(mark);
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`sshd never logged ${pattern}; log:\n${sshd.logSince(mark)}`);
}

const AUTH_ATTEMPT = /userauth-request|Accepted (password|publickey)|Failed (password|publickey)|Invalid user/;

describe('SftpDestination against OpenSSH sshd', function () {
  let sshd: SshdServer;
  let keys: { path: string; remove: () => Promise<void> };
  let n = 0;

  /**
   * Key authentication by default: the test account's password is reset by every test process
   * that calls ensureTestUser(), so password logins are only used where they are the subject.
   */
  function options(extra: Partial<SftpDestinationOptions> = {}): SftpDestinationOptions {
    return {
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.user,
      privateKey: sshd.userKey.privateKey,
      hostKey: { fingerprint: sshd.hostKeyFingerprint },
      ...extra,
    };
  }

  function withPassword(extra: Partial<SftpDestinationOptions> = {}): SftpDestinationOptions {
    const { privateKey: _key, ...rest } = options(extra);
    return { ...rest, password: extra.password ?? sshd.password };
  }

  /** Opens a session, runs `body`, closes the session. */
  async function withSession<T>(extra: Partial<SftpDestinationOptions>, body: (s: DestinationSession) => Promise<T>): Promise<T> {
    const session = await new SftpDestination(options(extra)).connect();
    try {
      return await body(session);
    } finally {
      await session.close();
    }
  }

  const fresh = (name: string): string => join(sshd.rootDir, `${++n}-${name}`);

  before(async () => {
    sshd = await startSshd();
    keys = await tempDir('sftp-keys');
  });
  after(async () => {
    await sshd?.stop();
    await keys?.remove();
  });

  describe('authentication', () => {
    it('logs in with a password and with a private key', async () => {
      for (const destination of [new SftpDestination(withPassword()), new SftpDestination(options())]) {
        const session = await destination.connect();
        try {
          assert.equal((await session.stat(sshd.rootDir))?.isDirectory, true);
        } finally {
          await session.close();
        }
      }
    });

    it('a wrong password gives AUTH_FAILED (permanent), and the message holds no secret', async () => {
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const error = await expectFailure(new SftpDestination(withPassword({ password: wrong })).connect(), { code: 'AUTH_FAILED', withHint: true });
      assert.equal(error.retryable, false);
      for (const text of [error.message, error.hint]) {
        assert.ok(!text.includes(wrong) && !text.includes(sshd.password), 'no password in the message');
      }
      assert.ok(error.message.includes(sshd.user));
    });

    it('an unrelated private key gives AUTH_FAILED', async () => {
      const path = join(keys.path, 'stranger');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
      await expectFailure(new SftpDestination(options({ privateKey: await readFile(path) })).connect(), { code: 'AUTH_FAILED', withHint: true });
    });

    it('reports the login folder, for /~/ paths', async () => {
      await withSession({}, async (s) => {
        assert.ok(hasLoginFolder(s));
        assert.equal(await s.loginFolder(), `/home/${sshd.user}`);
      });
    });

    it('the label names protocol, user, host and port, and no secret', () => {
      const destination = new SftpDestination(options());
      assert.equal(destination.label, `sftp://${sshd.user}@127.0.0.1:${sshd.port}`);
    });
  });

  describe('host key verification', () => {
    it('refuses an unknown host key before any authentication, showing its fingerprint', async () => {
      const asked: string[] = [];
      const mark = sshd.logMark();
      const error = await expectFailure(
        new SftpDestination(withPassword({ hostKey: { acceptUnknown: (fp) => { asked.push(fp); return false; } } })).connect(),
        { code: 'HOST_KEY_UNKNOWN', withHint: true },
      );
      assert.deepEqual(asked, [sshd.hostKeyFingerprint]);
      assert.ok(error.message.includes(sshd.hostKeyFingerprint), error.message);
      assert.match(error.hint, /pin/);
      const refused = await logUntil(sshd, mark, /Disconnected from 127\.0\.0\.1 port \d+ \[preauth\]|Connection closed by 127\.0\.0\.1.*\[preauth\]/);
      assert.doesNotMatch(refused, AUTH_ATTEMPT, 'sshd saw no authentication request');

      // Control: the same log does show authentication when the key is trusted.
      const okMark = sshd.logMark();
      await withSession({}, async () => undefined);
      assert.match(await logUntil(sshd, okMark, /Accepted publickey/), /userauth-request/);
    });

    it('accepts an unknown key the callback accepts, and pins it for the next connections', async () => {
      const asked: string[] = [];
      const destination = new SftpDestination(options({ hostKey: { acceptUnknown: async (fp) => { asked.push(fp); return true; } } }));
      for (let i = 0; i < 2; i++) {
        const session = await destination.connect();
        await session.close();
      }
      assert.deepEqual(asked, [sshd.hostKeyFingerprint], 'asked once');
    });

    it('connects when the pinned fingerprint matches and refuses another one as HOST_KEY_MISMATCH', async () => {
      await withSession({ hostKey: { fingerprint: `  ${sshd.hostKeyFingerprint}  ` } }, async () => undefined);
      const path = join(keys.path, 'other-host');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
      const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
      const other = /(SHA256:\S+)/.exec(stdout)![1]!;
      const mark = sshd.logMark();
      const error = await expectFailure(new SftpDestination(options({ hostKey: { fingerprint: other } })).connect(), { code: 'HOST_KEY_MISMATCH', withHint: true });
      assert.ok(error.message.includes(sshd.hostKeyFingerprint) && error.message.includes(other), error.message);
      assert.doesNotMatch(await logUntil(sshd, mark, /Disconnected from 127\.0\.0\.1 port \d+ \[preauth\]/), AUTH_ATTEMPT);
    });

    it('refuses a malformed fingerprint at configuration time', () => {
      assert.throws(() => new SftpDestination(options({ hostKey: { fingerprint: 'MD5:aa:bb' } })), (e: FerryError) => e.code === 'INVALID_CONFIG');
    });

    it('trusts a known_hosts entry in [host]:port form, plain and hashed by ssh-keygen -H', async () => {
      const file = join(keys.path, `known_hosts_${++n}`);
      await writeFile(file, `# test\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKeys.ed25519}\n`);
      await withSession({ hostKey: { knownHostsFile: file } }, async () => undefined);
      await run('ssh-keygen', ['-H', '-f', file]);
      assert.ok(!(await readFile(file, 'utf8')).includes('127.0.0.1'), 'the name is hashed');
      await withSession({ hostKey: { knownHostsFile: file } }, async () => undefined);
    });

    it('asks the server for the key type known_hosts holds (an RSA-only entry works)', async () => {
      const file = join(keys.path, `known_hosts_${++n}`);
      await writeFile(file, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKeys.rsa}\n`);
      await withSession({ hostKey: { knownHostsFile: file } }, async () => undefined);
    });

    it('does not apply a plain "host" entry (port 22 only, as in OpenSSH) to another port', async () => {
      const file = join(keys.path, `known_hosts_${++n}`);
      await writeFile(file, `127.0.0.1 ${sshd.hostPublicKeys.ed25519}\n`);
      const error = await expectFailure(new SftpDestination(options({ hostKey: { knownHostsFile: file } })).connect(), { code: 'HOST_KEY_UNKNOWN', withHint: true });
      assert.ok(error.hint.includes(`[127.0.0.1]:${sshd.port} ${sshd.hostPublicKeys.ed25519}`), `the hint gives the line to add: ${error.hint}`);
    });

    it('a missing known_hosts file means every host is unknown', async () => {
      await expectFailure(new SftpDestination(options({ hostKey: { knownHostsFile: join(keys.path, 'absent') } })).connect(), { code: 'HOST_KEY_UNKNOWN', withHint: true });
    });
  });

  describe('connection failures', () => {
    it('a refused connection is NETWORK, retryable', async () => {
      const error = await expectFailure(new SftpDestination(options({ port: await freePort() })).connect(), { code: 'NETWORK', withHint: true });
      assert.equal(error.retryable, true);
      assert.match(error.message, /ECONNREFUSED/);
    });

    it('a handshake that stalls is TIMEOUT, retryable', async () => {
      const proxy = await FaultProxy.start(sshd.port);
      try {
        proxy.setFault({ action: 'stall', afterBytes: 200, direction: 'down' });
        const error = await expectFailure(new SftpDestination(options({ port: proxy.port, idleTimeoutMs: 800 })).connect(), { code: 'TIMEOUT', withHint: true });
        assert.equal(error.retryable, true);
      } finally {
        await proxy.close();
      }
    });

    it('no common algorithm is ALGORITHM_MISMATCH, listing what each side offered', async () => {
      const strict = await startSshd({ extraConfig: ['KexAlgorithms sntrup761x25519-sha512@openssh.com'] });
      try {
        const error = await expectFailure(
          new SftpDestination({ ...options(), port: strict.port, privateKey: strict.userKey.privateKey, hostKey: { fingerprint: strict.hostKeyFingerprint } }).connect(),
          { code: 'ALGORITHM_MISMATCH', withHint: true },
        );
        assert.equal(error.retryable, false);
        assert.match(error.message, /key exchange/);
        assert.match(error.message, /the server offers sntrup761x25519-sha512@openssh\.com/);
        assert.match(error.message, /FileFerry offers [^;]*curve25519-sha256/);
      } finally {
        await strict.stop();
      }
    });
  });

  describe('writing', () => {
    for (const maxInFlight of [1, 32]) {
      it(`writes a multi-MiB stream of odd-sized chunks byte for byte (maxInFlight ${maxInFlight}), acknowledging monotonically up to the total`, async () => {
        const body = randomBytes(5 * 1024 * 1024 + 12345);
        const path = fresh('odd.bin');
        const acks: number[] = [];
        await withSession({ maxInFlight }, async (s) => {
          assert.equal((s as SftpSession).maxWrite, 261_120, 'OpenSSH announces its max-write in limits@openssh.com');
          await s.write(path, chunked(body, [1, 7, 65537, 300_001, 4096, 261_120, 13]), { offset: 0, onAcknowledged: (a) => acks.push(a) });
        });
        assert.equal(sha(await readFile(path)), sha(body));
        assert.ok(acks.length > 1, 'acknowledged as writes completed, not only at the end');
        assert.deepEqual(acks, [...acks].sort((a, b) => a - b));
        assert.ok(acks.every((a, i) => i === 0 || a > acks[i - 1]!), 'strictly increasing');
        assert.equal(acks.at(-1), body.length);
      });
    }

    it('resumes at an offset over a partial file, overwriting unacknowledged bytes beyond it', async () => {
      const body = randomBytes(3 * 1024 * 1024 + 7);
      const resumeAt = 1_500_001;
      const path = fresh('resume.bin');
      await withSession({}, async (s) => {
        // The first attempt got further than what was acknowledged: garbage after the resume point.
        await s.write(path, chunked(Buffer.concat([body.subarray(0, resumeAt), randomBytes(100_000)]), [65536]), { offset: 0 });
        const acks: number[] = [];
        await s.write(path, chunked(body.subarray(resumeAt), [70_000]), { offset: resumeAt, onAcknowledged: (a) => acks.push(a) });
        assert.equal(acks.at(-1), body.length - resumeAt);
      });
      assert.equal(sha(await readFile(path)), sha(body));
    });

    it('refuses to continue past the end of what the server holds, and a missing file', async () => {
      const path = fresh('short.bin');
      await withSession({}, async (s) => {
        await s.write(path, chunked(Buffer.from('abc'), [3]), { offset: 0 });
        await expectFailure(s.write(path, chunked(Buffer.from('def'), [3]), { offset: 10 }), { code: 'SIZE_MISMATCH', withHint: true });
        await expectFailure(s.write(fresh('never-written.bin'), chunked(Buffer.from('x'), [1]), { offset: 5 }), { code: 'NOT_FOUND', withHint: true });
      });
    });

    it('a write into a missing folder is NOT_FOUND; into a folder the user may not write, ACCESS_DENIED', async () => {
      await withSession({}, async (s) => {
        await expectFailure(s.write(`${fresh('missing')}/a.bin`, chunked(Buffer.from('x'), [1]), { offset: 0 }), { code: 'NOT_FOUND', withHint: true });
        await expectFailure(s.write('/etc/fileferry-forbidden.bin', chunked(Buffer.from('x'), [1]), { offset: 0 }), { code: 'ACCESS_DENIED', withHint: true });
        await expectFailure(s.ensureDir('/root/fileferry-forbidden'), { code: 'ACCESS_DENIED', withHint: true });
      });
    });

    it('a full disk is DISK_FULL, permanent (OpenSSH only says "Failure"; statvfs@openssh.com tells why)', async () => {
      const owner = await stat(sshd.rootDir);
      const tiny = fresh('tiny-disk');
      await mkdir(tiny);
      await run('mount', ['-t', 'tmpfs', '-o', `size=1m,uid=${owner.uid},gid=${owner.gid},mode=0755`, 'fileferry-test-full', tiny]);
      try {
        await withSession({}, async (s) => {
          const error = await expectFailure(s.write(`${tiny}/big.bin`, chunked(randomBytes(4 * 1024 * 1024), [65536]), { offset: 0 }), { code: 'DISK_FULL', withHint: true });
          assert.equal(error.retryable, false);
          assert.ok(error.message.includes(tiny), error.message);
          assert.equal((s as SftpSession).writesSerialized, false, 'a full disk is not mistaken for a server that mishandles concurrent writes');
          await s.remove(`${tiny}/big.bin`);
        });
      } finally {
        await run('umount', ['-l', tiny]);
      }
    });

    it('a connection that stalls mid-write fails with TIMEOUT (retryable) after the idle timeout', async () => {
      const proxy = await FaultProxy.start(sshd.port);
      try {
        proxy.setFault({ action: 'stall', afterBytes: 1024 * 1024 });
        const session = await new SftpDestination(options({ port: proxy.port, idleTimeoutMs: 1000 })).connect();
        const acks: number[] = [];
        try {
          const error = await expectFailure(
            session.write(fresh('stall.bin'), chunked(randomBytes(8 * 1024 * 1024), [65536]), { offset: 0, onAcknowledged: (a) => acks.push(a) }),
            { code: 'TIMEOUT', withHint: true },
          );
          assert.equal(error.retryable, true);
          assert.equal(proxy.faultsFired, 1);
          assert.ok((acks.at(-1) ?? 0) < 1024 * 1024, `no more than what passed the proxy was acknowledged (${acks.at(-1)})`);
        } finally {
          await session.close();
        }
      } finally {
        await proxy.close();
      }
    });

    it('a connection cut mid-write fails with NETWORK (retryable)', async () => {
      const proxy = await FaultProxy.start(sshd.port);
      try {
        proxy.setFault({ action: 'cut', afterBytes: 1024 * 1024 });
        const session = await new SftpDestination(options({ port: proxy.port })).connect();
        try {
          const error = await expectFailure(session.write(fresh('cut.bin'), chunked(randomBytes(8 * 1024 * 1024), [65536]), { offset: 0 }), { code: 'NETWORK', withHint: true });
          assert.equal(error.retryable, true);
          await expectFailure(session.stat(sshd.rootDir), { code: 'NETWORK', withHint: true });
        } finally {
          await session.close();
        }
      } finally {
        await proxy.close();
      }
    });
  });

  describe('renaming and the server hash', () => {
    it('rename with replace uses posix-rename@openssh.com, so the final name never goes missing', async () => {
      const from = fresh('from');
      const to = fresh('to');
      await withSession({}, async (s) => {
        const session = s as SftpSession;
        assert.equal(session.atomicReplace, true, 'OpenSSH advertises posix-rename@openssh.com');
        const sftp = (session as unknown as { connection: { sftp: SFTPWrapper } }).connection.sftp;
        const posixRename = sinon.spy(sftp, 'ext_openssh_rename');
        const unlink = sinon.spy(sftp, 'unlink');
        try {
          await s.write(to, chunked(Buffer.from('old'), [3]), { offset: 0 });
          for (let i = 0; i < 20; i++) {
            await s.write(from, chunked(Buffer.from(`new ${i}`), [3]), { offset: 0 });
            let missing = 0;
            let watching = true;
            const watch = (async () => {
              while (watching) {
                if (!(await stat(to).then(() => true, () => false))) missing++;
                await new Promise((r) => setImmediate(r));
              }
            })();
            await s.rename(from, to, { replace: true });
            watching = false;
            await watch;
            assert.equal(missing, 0, 'the target never disappeared');
            assert.equal((await readFile(to)).toString(), `new ${i}`);
          }
          assert.equal(posixRename.callCount, 20);
          assert.equal(unlink.callCount, 0, 'no remove-then-rename');
        } finally {
          posixRename.restore();
          unlink.restore();
        }
      });
    });

    it('rename without replace gives ALREADY_EXISTS and keeps both files; to a free name it renames', async () => {
      const from = fresh('a');
      const to = fresh('b');
      await withSession({}, async (s) => {
        await s.write(from, chunked(Buffer.from('new'), [3]), { offset: 0 });
        await s.write(to, chunked(Buffer.from('old'), [3]), { offset: 0 });
        await expectFailure(s.rename(from, to, { replace: false }), { code: 'ALREADY_EXISTS', withHint: true });
        assert.equal((await readFile(to)).toString(), 'old');
        assert.equal((await readFile(from)).toString(), 'new');
        const free = fresh('c');
        await s.rename(from, free, { replace: false });
        assert.equal((await readFile(free)).toString(), 'new');
        assert.equal(await s.stat(from), undefined);
      });
    });

    it('computes the SHA-256 on the server with sha256sum when allowed, quoting the path', async () => {
      const body = randomBytes(2 * 1024 * 1024 + 3);
      const path = fresh(`it's a "name" $(x) ; é.bin`);
      await withSession({ allowRemoteHash: true }, async (s) => {
        assert.ok(canHashRemotely(s));
        await s.write(path, chunked(body, [100_000]), { offset: 0 });
        assert.equal(await s.remoteSha256(path), sha(body));
        assert.equal(await s.remoteSha256(fresh('absent.bin')), undefined, 'a failing sha256sum means "the server declines"');
      });
      await withSession({}, async (s) => assert.equal(canHashRemotely(s), false, 'off unless allowed'));
    });
  });

  describe('after the server gets a new host key', () => {
    it('refuses the old pin and the old known_hosts entry with HOST_KEY_MISMATCH showing the new fingerprint', async () => {
      const oldFingerprint = sshd.hostKeyFingerprint;
      const file = join(keys.path, 'known_hosts_before_restart');
      await writeFile(file, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKeys.ed25519}\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKeys.rsa}\n`);
      const pinned = new SftpDestination(withPassword());
      const accepted = new SftpDestination(options({ hostKey: { acceptUnknown: () => true } }));
      await (await accepted.connect()).close();

      await sshd.restartWithNewHostKey();
      const newFingerprint = sshd.hostKeyFingerprint;
      assert.notEqual(newFingerprint, oldFingerprint);

      const mark = sshd.logMark();
      for (const destination of [pinned, accepted, new SftpDestination(options({ hostKey: { knownHostsFile: file } }))]) {
        const error = await expectFailure(destination.connect(), { code: 'HOST_KEY_MISMATCH', withHint: true });
        assert.ok(error.message.includes(newFingerprint), error.message);
        assert.ok(error.message.includes(oldFingerprint), error.message);
        assert.match(error.hint, /pin/);
      }
      await logUntil(sshd, mark, /(Disconnected from 127\.0\.0\.1 port \d+ \[preauth\][\s\S]*){3}/);
      assert.doesNotMatch(sshd.logSince(mark), AUTH_ATTEMPT, 'no credential was sent to the changed server');

      await withSession({ hostKey: { fingerprint: newFingerprint } }, async () => undefined);
    });
  });
});
