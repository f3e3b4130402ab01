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
});
