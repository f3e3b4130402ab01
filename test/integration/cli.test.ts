import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main';
import { tempDir } from '../support/tmp';
import { startSshd, type SshdServer } from '../support/sshdServer';

/** Runs the CLI in-process and captures what it prints. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({ write(chunk, _enc, cb) { append(chunk.toString()); cb(); } });
  const code = await main(args, { out: sink((s) => (out += s)), err: sink((s) => (err += s)), env: { ...env } });
  return { code, out, err };
}

describe('fileferry CLI', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const body = randomBytes(700_000);
  const sha = createHash('sha256').update(body).digest('hex');

  before(async () => {
    dir = await tempDir('cli');
    await mkdir(join(dir.path, 'src', 'sub'), { recursive: true });
    await mkdir(join(dir.path, 'dst'));
    await writeFile(join(dir.path, 'src', 'sub', 'data file.bin'), body);
  });
  after(async () => dir.remove());

  it('copy --json prints one completed object and exits 0', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, `file://${dir.path}/dst/`, '--json']);
    assert.equal(r.code, 0, r.err + r.out);
    const report = JSON.parse(r.out);
    assert.equal(report.status, 'completed');
    assert.equal(report.bytes, body.length);
    assert.equal(report.sha256, sha);
    assert.equal(report.attempts, 1);
    assert.deepEqual(report.resumedFromBytes, []);
    assert.equal(report.verification, 'size');
    assert.equal(report.finalPath, `${dir.path}/dst/data file.bin`);
    assert.ok(typeof report.seconds === 'number');
    assert.equal(createHash('sha256').update(await readFile(join(dir.path, 'dst', 'data file.bin'))).digest('hex'), sha);
  });

  it('a failed copy prints a failed object with a stable code and exits 1', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, `file://${dir.path}/dst/`, '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out);
    assert.equal(report.status, 'failed');
    assert.equal(report.error.code, 'ALREADY_EXISTS');
    assert.ok(report.error.message.includes('data file.bin'));
  });

  it('--overwrite rename keeps the existing file', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, `file://${dir.path}/dst/`, '--json', '--overwrite', 'rename']);
    assert.equal(r.code, 0, r.out);
    assert.equal(JSON.parse(r.out).finalPath, `${dir.path}/dst/data file (1).bin`);
  });

  it('a failed copy reports the attempts and resumes it made', async () => {
    // A missing source folder fails at the first attempt (permanent), after one attempt.
    const r = await cli(['copy', `file://${dir.path}/src/sub/missing.bin`, `file://${dir.path}/dst/`, '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out);
    assert.equal(report.error.code, 'NOT_FOUND');
    assert.equal(report.attempts, 1);
    assert.deepEqual(report.resumedFromBytes, []);
  });

  it('refuses a password in the URL without echoing it', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, 'sftp://u:hunter2@127.0.0.1:1/x', '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).error.code, 'INVALID_URL');
    assert.ok(!r.out.includes('hunter2') && !r.err.includes('hunter2'));
  });

  it('refuses escaped traversal in a server path', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, 'ftps://u@127.0.0.1:1/in/%2E%2E/x', '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).error.code, 'INVALID_PATH');
  });

  it('plain FTP is refused without --allow-plain-ftp', async () => {
    const r = await cli(['copy', `file://${dir.path}/src/sub/data%20file.bin`, 'ftp://u@127.0.0.1:1/in/x', '--json'], { FILEFERRY_DEST_PASSWORD: 'p' });
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).error.code, 'PLAINTEXT_NOT_ALLOWED');
  });

  it('bad options exit 2 with a message naming the option', async () => {
    const r = await cli(['copy', 'a', 'b', '--overwrite', 'sometimes']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--overwrite must be fail, replace or rename/);
    assert.equal((await cli(['copy', 'a', 'b', '--retries', '-1'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });

  it('ls lists folders and objects with sizes, and --json', async () => {
    const r = await cli(['ls', `file://${dir.path}/src/`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /sub\//);
    const j = await cli(['ls', `file://${dir.path}/src/sub/`, '--json']);
    const listing = JSON.parse(j.out);
    assert.equal(listing.objects.length, 1);
    assert.equal(listing.objects[0].size, body.length);
  });

  describe('against a real sshd', () => {
    let sshd: SshdServer;
    let keyFile: string;
    before(async () => {
      sshd = await startSshd();
      keyFile = join(dir.path, 'id_test');
      await writeFile(keyFile, sshd.userKey.privateKey, { mode: 0o600 });
    });
    after(async () => sshd.stop());

    it('copies with a key and a pinned host key, into a folder given relative to the login folder', async () => {
      const home = sshd.rootDir.replace(/^\/home\/[^/]+\//, '');
      const r = await cli([
        'copy', `file://${dir.path}/src/sub/data%20file.bin`,
        `sftp://${sshd.user}@127.0.0.1:${sshd.port}/~/${home}/cli/`,
        '--identity', keyFile, '--host-key', sshd.hostKeyFingerprint, '--ssh-hash', '--json',
      ]);
      assert.equal(r.code, 0, r.out + r.err);
      const report = JSON.parse(r.out);
      assert.equal(report.sha256, sha);
      assert.equal(report.verification, 'size+server-hash');
      assert.equal(report.finalPath, `${sshd.rootDir}/cli/data file.bin`);
      assert.equal(createHash('sha256').update(await readFile(`${sshd.rootDir}/cli/data file.bin`)).digest('hex'), sha);
    });

    it('a wrong pinned host key fails with HOST_KEY_MISMATCH, shows the server fingerprint, and writes nothing', async () => {
      const r = await cli([
        'copy', `file://${dir.path}/src/sub/data%20file.bin`, `sftp://${sshd.user}@127.0.0.1:${sshd.port}${sshd.rootDir}/nope/x.bin`,
        '--identity', keyFile, '--host-key', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--json',
      ]);
      assert.equal(r.code, 1);
      const report = JSON.parse(r.out);
      assert.equal(report.error.code, 'HOST_KEY_MISMATCH');
      assert.ok(report.error.message.includes(sshd.hostKeyFingerprint), report.error.message);
    });

    it('takes the password from FILEFERRY_DEST_PASSWORD, never from argv', async () => {
      const r = await cli(
        ['copy', `file://${dir.path}/src/sub/data%20file.bin`, `sftp://${sshd.user}@127.0.0.1:${sshd.port}${sshd.rootDir}/pw/`, '--host-key', sshd.hostKeyFingerprint, '--json'],
        { FILEFERRY_DEST_PASSWORD: sshd.password },
      );
      assert.equal(r.code, 0, r.out);
      assert.equal(JSON.parse(r.out).finalPath, `${sshd.rootDir}/pw/data file.bin`);
    });
  });
});
