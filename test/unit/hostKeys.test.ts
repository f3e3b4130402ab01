import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  checkKnownHosts,
  entryMatches,
  fingerprintOf,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  normalizeFingerprint,
  parseKnownHosts,
} from '../../src/adapters/destination/hostKeys';
import { HostKeyGuard, presentedKeyType } from '../../src/adapters/destination/sftpHostKeyPolicy';
import { expectFailure } from '../support/expectFailure';
import { tempDir } from '../support/tmp';

const run = promisify(execFile);

/** A fresh key pair from ssh-keygen: its public blob and OpenSSH's own fingerprint of it. */
async function keyPair(dir: string, type: 'ed25519' | 'rsa' | 'ecdsa', name: string): Promise<{ line: string; blob: Buffer; fingerprint: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', 'unit', '-f', path]);
  const line = (await readFile(`${path}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64'), fingerprint: /(SHA256:\S+)/.exec(stdout)![1]! };
}

describe('hostKeys', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let ed: { line: string; blob: Buffer; fingerprint: string };
  let rsa: { line: string; blob: Buffer; fingerprint: string };
  let ecdsa: { line: string; blob: Buffer; fingerprint: string };
  let other: { line: string; blob: Buffer; fingerprint: string };

  before(async () => {
    dir = await tempDir('hostkeys');
    [ed, rsa, ecdsa, other] = await Promise.all([
      keyPair(dir.path, 'ed25519', 'ed'),
      keyPair(dir.path, 'rsa', 'rsa'),
      keyPair(dir.path, 'ecdsa', 'ecdsa'),
      keyPair(dir.path, 'ed25519', 'other'),
    ]);
  });
  after(async () => dir.remove());

  it('computes the same SHA256 fingerprint as ssh-keygen -l for ed25519, rsa and ecdsa keys', () => {
    for (const key of [ed, rsa, ecdsa]) assert.equal(fingerprintOf(key.blob), key.fingerprint);
  });

  it('reads the key type from the blob', () => {
    assert.equal(keyTypeOf(ed.blob), 'ssh-ed25519');
    assert.equal(keyTypeOf(rsa.blob), 'ssh-rsa');
    assert.equal(keyTypeOf(ecdsa.blob), 'ecdsa-sha2-nistp256');
    assert.equal(keyTypeOf(Buffer.from([0, 0])), undefined);
  });

  it('normalises fingerprints and refuses what is not one', () => {
    assert.equal(normalizeFingerprint(`  ${ed.fingerprint}  `), ed.fingerprint);
    assert.equal(normalizeFingerprint(`${ed.fingerprint}=`), ed.fingerprint);
    assert.equal(normalizeFingerprint(`sha256:${ed.fingerprint.slice(7)}`), ed.fingerprint);
    assert.equal(normalizeFingerprint('MD5:12:34:56'), undefined);
    assert.equal(normalizeFingerprint('SHA256:short'), undefined);
    assert.equal(normalizeFingerprint(ed.fingerprint.slice(7)), undefined, 'the SHA256: prefix is required');
  });

  it('matches plain names on port 22 and [host]:port names on other ports', () => {
    const [plain, bracketed] = parseKnownHosts(`example.com ${ed.line}\n[example.com]:2222 ${ed.line}\n`);
    assert.equal(entryMatches(plain!, 'example.com', 22), true);
    assert.equal(entryMatches(plain!, 'EXAMPLE.com', 22), true, 'host names are case-insensitive');
    assert.equal(entryMatches(plain!, 'example.com', 2222), false, 'a plain name means port 22 only');
    assert.equal(entryMatches(bracketed!, 'example.com', 2222), true);
    assert.equal(entryMatches(bracketed!, 'example.com', 22), false);
  });

  it('matches comma lists, wildcards and negations', () => {
    const [entry] = parseKnownHosts(`a.example.com,*.corp.test,!bad.corp.test,[10.0.0.?]:2022 ${ed.line}`);
    assert.equal(entryMatches(entry!, 'a.example.com', 22), true);
    assert.equal(entryMatches(entry!, 'sftp.corp.test', 22), true);
    assert.equal(entryMatches(entry!, 'bad.corp.test', 22), false);
    assert.equal(entryMatches(entry!, '10.0.0.7', 2022), true);
    assert.equal(entryMatches(entry!, '10.0.0.17', 2022), false);
    assert.equal(entryMatches(entry!, 'corp.test', 22), false);
  });

  it('matches hashed names written by ssh-keygen -H, for port 22 and other ports', async () => {
    const file = join(dir.path, 'known_hosts_hashed');
    await writeFile(file, `sftp.example.com ${ed.line}\n[127.0.0.1]:40022 ${rsa.line}\n`);
    await run('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('example.com') && text.includes('|1|'), 'ssh-keygen hashed the names');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 2);
    assert.deepEqual(checkKnownHosts(entries, 'sftp.example.com', 22, ed.blob), { status: 'known', line: 1 });
    assert.deepEqual(checkKnownHosts(entries, '127.0.0.1', 40022, rsa.blob), { status: 'known', line: 2 });
    assert.deepEqual(checkKnownHosts(entries, '127.0.0.1', 40023, rsa.blob), { status: 'unknown' });
    assert.equal(checkKnownHosts(entries, 'sftp.example.com', 22, other.blob).status, 'changed');
  });

  it('skips comments, blank lines, malformed lines and keys whose type does not match the blob', () => {
    const text = [
      '# a comment',
      '',
      'host-only-no-key',
      `bad.example ssh-rsa ${ed.line.split(' ')[1]}`,
      `@unknown-marker good.example ${ed.line}`,
      `good.example ${ed.line} a trailing comment`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.line, 6);
    assert.deepEqual(entries[0]!.patterns, ['good.example']);
  });

  it('says known, unknown, changed (with the expected fingerprints) and revoked', () => {
    const entries = parseKnownHosts([`h.example ${ed.line}`, `h.example ${rsa.line}`, `@revoked * ${other.line}`, `@cert-authority * ${ecdsa.line}`].join('\n'));
    assert.deepEqual(checkKnownHosts(entries, 'h.example', 22, rsa.blob), { status: 'known', line: 2 });
    assert.deepEqual(checkKnownHosts(entries, 'elsewhere.example', 22, ed.blob), { status: 'unknown' });
    assert.deepEqual(checkKnownHosts(entries, 'h.example', 22, ecdsa.blob), {
      status: 'changed',
      expected: [
        { fingerprint: ed.fingerprint, keyType: 'ssh-ed25519', line: 1 },
        { fingerprint: rsa.fingerprint, keyType: 'ssh-rsa', line: 2 },
      ],
    });
    assert.deepEqual(checkKnownHosts(entries, 'h.example', 22, other.blob), { status: 'revoked', line: 3 });
    assert.deepEqual(checkKnownHosts(entries, 'elsewhere.example', 22, other.blob), { status: 'revoked', line: 3 });
  });

  it('lists the key types known for a host and writes a pasteable line', () => {
    const entries = parseKnownHosts([`[h]:2222 ${rsa.line}`, `[h]:2222 ${ed.line}`, `[h]:2222 ${rsa.line}`].join('\n'));
    assert.deepEqual(knownKeyTypes(entries, 'h', 2222), ['ssh-rsa', 'ssh-ed25519']);
    assert.deepEqual(knownKeyTypes(entries, 'h', 22), []);
    const line = knownHostsLine('H', 2222, ed.blob);
    assert.equal(line, `[h]:2222 ${ed.line.split(' ').slice(0, 2).join(' ')}`);
    assert.equal(checkKnownHosts(parseKnownHosts(line), 'h', 2222, ed.blob).status, 'known');
  });

  describe('the SFTP host key policy, per key type', () => {
    /** A blob whose type string is `type`, followed by some key bytes. */
    const blobNamed = (type: string): Buffer => {
      const name = Buffer.from(type, 'latin1');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(name.length);
      return Buffer.concat([length, name, Buffer.alloc(36, 7)]);
    };

    it('reads the presented key type, and refuses a type name that is not one', () => {
      assert.equal(presentedKeyType(ed.blob), 'ssh-ed25519');
      assert.equal(presentedKeyType(rsa.blob), 'ssh-rsa');
      assert.equal(presentedKeyType(ecdsa.blob), 'ecdsa-sha2-nistp256');
      assert.equal(presentedKeyType(blobNamed('ssh-ed25519\n**bold**')), undefined);
      assert.equal(presentedKeyType(blobNamed('x'.repeat(65))), undefined);
    });

    it('asks with the fingerprint and the key type, and pins each accepted key for its type only', async () => {
      const asked: [string, string | undefined][] = [];
      const guard = new HostKeyGuard({ acceptUnknown: (fp, type) => (asked.push([fp, type]), true) }, 'h.example', 2222);
      await (await guard.begin()).verify(ed.blob);
      assert.deepEqual(asked, [[ed.fingerprint, 'ssh-ed25519']]);

      // The same key again: not asked. Another ed25519 key: changed, refused without asking.
      await (await guard.begin()).verify(ed.blob);
      const changed = await expectFailure((await guard.begin()).verify(other.blob), { code: 'HOST_KEY_MISMATCH', withHint: true });
      assert.ok(changed.message.includes(other.fingerprint) && changed.message.includes(ed.fingerprint), changed.message);
      assert.match(changed.message, /ssh-ed25519/);
      assert.equal(asked.length, 1);

      // A key of another type is a new key: asked, then pinned for that type beside the first.
      await (await guard.begin()).verify(ecdsa.blob);
      assert.deepEqual(asked[1], [ecdsa.fingerprint, 'ecdsa-sha2-nistp256']);
      await (await guard.begin()).verify(ed.blob);
      await (await guard.begin()).verify(ecdsa.blob);
      assert.equal(asked.length, 2);
    });

    it('a declined key of a new type is HOST_KEY_UNKNOWN naming its type, and stays unknown', async () => {
      let answer = true;
      const asked: string[] = [];
      const guard = new HostKeyGuard({ acceptUnknown: (fp) => (asked.push(fp), answer) }, 'h.example', 22);
      await (await guard.begin()).verify(ed.blob);
      answer = false;
      const error = await expectFailure((await guard.begin()).verify(rsa.blob), { code: 'HOST_KEY_UNKNOWN', withHint: true });
      assert.ok(error.message.includes(rsa.fingerprint) && error.message.includes('ssh-rsa'), error.message);
      await expectFailure((await guard.begin()).verify(rsa.blob), { code: 'HOST_KEY_UNKNOWN' });
      assert.deepEqual(asked, [ed.fingerprint, rsa.fingerprint, rsa.fingerprint], 'asked again, since it was never accepted');
    });

    it('a callback that fails is HOST_KEY_UNKNOWN carrying the cause', async () => {
      const cause = new Error('the card could not be sent');
      const guard = new HostKeyGuard({ acceptUnknown: () => Promise.reject(cause) }, 'h.example', 22);
      const error = await expectFailure((await guard.begin()).verify(ed.blob), { code: 'HOST_KEY_UNKNOWN', withHint: true });
      assert.equal(error.cause, cause);
    });

    it('a bare pinned fingerprint does not say its type: every other key is a changed one', async () => {
      const guard = new HostKeyGuard({ fingerprint: ed.fingerprint }, 'h.example', 22);
      await (await guard.begin()).verify(ed.blob);
      for (const key of [other, ecdsa]) {
        const error = await expectFailure((await guard.begin()).verify(key.blob), { code: 'HOST_KEY_MISMATCH', withHint: true });
        assert.ok(error.message.includes(key.fingerprint), error.message);
      }
    });

    it('known_hosts: a key of a type not listed for the host is new (the line to add), another key of a listed type is changed', async () => {
      const file = join(dir.path, 'known_hosts_types');
      await writeFile(file, `[h.example]:2222 ${ed.line}\n[elsewhere.example]:2222 ${ecdsa.line}\n`);
      const guard = new HostKeyGuard({ knownHostsFile: file }, 'h.example', 2222);
      const check = await guard.begin();
      assert.deepEqual(check.preferredAlgorithms, ['ssh-ed25519'], 'asks first for the type it knows');
      await check.verify(ed.blob);
      const fresh = await expectFailure(check.verify(ecdsa.blob), { code: 'HOST_KEY_UNKNOWN', withHint: true });
      assert.match(fresh.message, /lists only ssh-ed25519 keys/);
      assert.ok(fresh.hint.includes(`[h.example]:2222 ${ecdsa.line.split(' ').slice(0, 2).join(' ')}`), fresh.hint);
      const changed = await expectFailure(check.verify(other.blob), { code: 'HOST_KEY_MISMATCH', withHint: true });
      assert.ok(changed.message.includes(ed.fingerprint), changed.message);

      // Once the line is added, that key of the new type is known too.
      await writeFile(file, `[h.example]:2222 ${ed.line}\n${knownHostsLine('h.example', 2222, ecdsa.blob)}\n`);
      await (await guard.begin()).verify(ecdsa.blob);
      await (await guard.begin()).verify(ed.blob);
    });
  });
});
