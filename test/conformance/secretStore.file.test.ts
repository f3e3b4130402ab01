import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSecrets } from '../../src/adapters/secrets/fileSecrets';
import { SecretsError } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';
import { ensureTestUser } from '../support/testUser';
import { tempDir } from '../support/tmp';
import { secretStoreConformance } from './secretStoreSuite';

describe('FileSecrets', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const store = new FileSecrets();
  before(async () => {
    dir = await tempDir('file-secrets');
  });
  after(async () => dir.remove());

  secretStoreConformance('file', async () => ({
    store,
    // A mounted secret usually ends with a newline; the adapter drops exactly that one.
    put: async (name, value) => {
      await writeFile(join(dir.path, name), `${value}\n`);
      return `file:${join(dir.path, name)}`;
    },
    missingRef: 'file:/nonexistent/fileferry/secret',
    malformedRef: 'file:relative/path/secret',
    cleanup: async () => undefined,
  }));

  it('removes one final line ending and keeps everything else, a key file included', async () => {
    // A real key, made now (PKCS#8 PEM ends in one newline, as key files do).
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, string]> = [['pw\n', 'pw'], ['pw\r\n', 'pw'], ['pw\n\n', 'pw\n'], ['pw ', 'pw '], ['pw', 'pw'], [key, key.slice(0, -1)], [`${key}\n`, key]];
    for (const [i, [content, expected]] of cases.entries()) {
      await writeFile(join(dir.path, `nl-${i}`), content);
      assert.equal(await store.resolve(`file:${join(dir.path, `nl-${i}`)}`), expected, JSON.stringify(content));
    }
  });

  it('a folder, or a FIFO with no writer, is refused at once rather than read', async () => {
    await mkdir(join(dir.path, 'folder'));
    await expectFailure(store.resolve(`file:${join(dir.path, 'folder')}`), { type: SecretsError, code: 'INVALID_CONFIG', withHint: true });
    execFileSync('mkfifo', [join(dir.path, 'fifo')]);
    await expectFailure(store.resolve(`file:${join(dir.path, 'fifo')}`), { type: SecretsError, code: 'INVALID_CONFIG', withHint: true });
  });

  // The suite runs as root (sshd and vsftpd need it), so another user's process shows the EACCES.
  it('a file FileFerry may not read is ACCESS_DENIED (checked as an unprivileged user)', async () => {
    const user = ensureTestUser();
    const secret = join(dir.path, 'root-only');
    await writeFile(secret, 'not for you\n', { mode: 0o600 });
    await chmod(dir.path, 0o755);
    // A real process of another user resolves it: root reads anything, so root cannot see EACCES.
    const root = join(__dirname, '..', '..');
    const script = [
      `const { FileSecrets } = require(${JSON.stringify(join(root, 'src/adapters/secrets/fileSecrets.ts'))});`,
      `new FileSecrets().resolve(process.argv[1]).then(() => console.log('{"code":"RESOLVED"}'), (e) => console.log(JSON.stringify(e)));`,
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script, `file:${secret}`], {
      uid: user.uid,
      gid: user.gid,
      cwd: root,
      env: { PATH: process.env.PATH, HOME: user.home },
    }).toString();
    const result = JSON.parse(out.trim().split('\n').pop()!) as { code: string; message: string; hint: string };
    assert.equal(result.code, 'ACCESS_DENIED', out);
    assert.match(result.message, /root-only/);
    assert.doesNotMatch(out, /not for you/);
  });

  it('only absolute paths pass check', () => {
    store.check('file:/run/secrets/acme');
    for (const bad of ['file:run/secrets/acme', 'file:./acme', 'file:~/acme', 'file:/a\u0000b']) {
      assert.throws(() => store.check(bad), (e: unknown) => e instanceof SecretsError && e.code === 'INVALID_CONFIG', JSON.stringify(bad));
    }
  });
});
