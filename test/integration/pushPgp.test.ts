import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { destinationFactory } from '../../src/adapters/destination/destinationFactory';
import { OpenPgpEncryptor } from '../../src/adapters/pgp/openPgpEncryptor';
import { LocalSource } from '../../src/adapters/source/localSource';
import { FileFerryPushEngine } from '../../src/push/fileFerryPushEngine';
import { sshdSpec } from '../support/pushHarness';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('push with PGP (real sshd)', function () {
  this.timeout(120_000);
  let sshd: SshdServer;
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    [sshd, dir] = await Promise.all([startSshd(), tempDir('push-pgp')]);
  });
  after(async () => Promise.all([sshd?.stop(), dir?.remove()]));

  it('the file on the server decrypts with the private key to the source bytes', async () => {
    // Keys made for this run only; the passphrase is random too.
    const passphrase = randomBytes(12).toString('hex');
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Partner', email: 'partner@example.test' }], passphrase, format: 'armored' });
    const body = randomBytes(3 * 1024 * 1024 + 17);
    await mkdir(join(dir.path, 'outbound'));
    await writeFile(join(dir.path, 'outbound', 'ledger.csv'), body);
    const source = new LocalSource(dir.path);
    const object = await source.stat('outbound', 'ledger.csv');
    const encryptor = new OpenPgpEncryptor();
    assert.match(await encryptor.checkPublicKey(publicKey), /^[0-9a-f]{40,64}$/);
    await assert.rejects(encryptor.checkPublicKey(privateKey), /private key/);
    const engine = new FileFerryPushEngine({
      source,
      destination: destinationFactory.open(sshdSpec(sshd), { secrets: { resolve: async () => sshd.password } }),
      overwrite: 'fail',
      pgp: { encryptor, publicKey },
    });
    const sent = await engine.send({ ruleName: 'pgp', object: { ...object, container: 'outbound' }, remoteFolder: `${sshd.rootDir}/in`, remoteName: 'ledger.csv', signal: new AbortController().signal });
    assert.equal(sent.finalPath, `${sshd.rootDir}/in/ledger.csv.pgp`);
    assert.equal(sent.plaintextSha256, sha(body));
    const onServer = await readFile(sent.finalPath);
    assert.equal(sent.sha256, sha(onServer));
    assert.equal(sent.bytes, onServer.length);
    const decrypted = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: onServer }),
      decryptionKeys: await openpgp.decryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey: privateKey }), passphrase }),
      format: 'binary',
    });
    assert.equal(sha(decrypted.data as Uint8Array), sha(body));
    // After a restart the landed check finds it in place instead of sending it again.
    const landed = await engine.landed({ ruleName: 'pgp', object: { ...object, container: 'outbound' }, remoteFolder: `${sshd.rootDir}/in`, remoteName: 'ledger.csv', signal: new AbortController().signal });
    assert.equal(landed?.finalPath, sent.finalPath);
  });
});
