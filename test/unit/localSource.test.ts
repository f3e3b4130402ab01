import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SourceError } from '../../src/domain/errors';
import { LocalSource } from '../../src/adapters/source/localSource';
import { expectFailure, readAll } from '../support/expectFailure';
import { tempDir } from '../support/tmp';

/** LocalSource behaviour beyond the shared conformance suite: confinement to the root, and files changing under a read. */
describe('LocalSource', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let outside: { path: string; remove: () => Promise<void> };
  let source: LocalSource;

  before(async () => {
    dir = await tempDir('local-source-unit');
    outside = await tempDir('local-source-outside');
    await mkdir(join(dir.path, 'box', 'inner'), { recursive: true });
    await writeFile(join(dir.path, 'box', 'inner', 'ok.txt'), 'inside');
    await writeFile(join(dir.path, 'top.txt'), 'a file beside the containers');
    await writeFile(join(outside.path, 'secret.txt'), 'outside the root');
    await symlink(join(outside.path, 'secret.txt'), join(dir.path, 'box', 'escape.txt'));
    await symlink(outside.path, join(dir.path, 'box', 'escape-dir'));
    await symlink(join(dir.path, 'box', 'inner', 'ok.txt'), join(dir.path, 'box', 'alias.txt'));
    source = new LocalSource(dir.path);
  });
  after(async () => {
    await dir.remove();
    await outside.remove();
  });

  it('scheme file, one read at a time', () => {
    assert.equal(source.scheme, 'file');
    assert.equal(source.parallelReads, 1);
  });

  it('containers are the folders of the root, not its files', async () => {
    assert.deepEqual((await source.listContainers()).map((c) => c.name), ['box']);
  });

  for (const key of ['../top.txt', 'inner/../../top.txt', '..', 'inner/./ok.txt', 'inner//ok.txt', '/etc/passwd', 'inner/ok.txt\u0000']) {
    it(`refuses the key ${JSON.stringify(key)} as INVALID_PATH`, async () => {
      const error = await expectFailure(source.stat('box', key), { type: SourceError, code: 'INVALID_PATH' });
      assert.ok(error.hint);
    });
  }

  for (const container of ['..', '.', '', 'box/inner', '../box']) {
    it(`refuses the container ${JSON.stringify(container)} as INVALID_PATH`, async () => {
      await expectFailure(source.stat(container, 'ok.txt'), { type: SourceError, code: 'INVALID_PATH' });
      await expectFailure(source.list(container), { type: SourceError, code: 'INVALID_PATH' });
    });
  }

  it('refuses a prefix that climbs out', async () => {
    await expectFailure(source.list('box', { prefix: '../' }), { type: SourceError, code: 'INVALID_PATH' });
  });

  it('a symlink leading out of the root is NOT_FOUND to stat, and an empty folder to list', async () => {
    const error = await expectFailure(source.stat('box', 'escape.txt'), { type: SourceError, code: 'NOT_FOUND' });
    assert.ok(!error.message.includes(outside.path), 'the message does not reveal where the link points');
    assert.deepEqual(await source.list('box', { prefix: 'escape-dir/' }), { folders: [], objects: [] });
  });

  it('lists neither symlink that leads out, and lists the one inside as a file', async () => {
    const page = await source.list('box');
    assert.deepEqual(page.folders, ['inner/']);
    assert.deepEqual(page.objects.map((o) => o.key), ['alias.txt']);
  });

  it('a symlink inside the root reads as its target', async () => {
    const info = await source.stat('box', 'alias.txt');
    assert.equal((await readAll(await source.read('box', info, { start: 0, end: info.size }))).toString(), 'inside');
  });

  it('a page token it did not issue is refused', async () => {
    await expectFailure(source.list('box', { token: 'not-a-token' }), { type: SourceError, code: 'INVALID_PATH' });
  });

  it('a range outside the object is refused before any read', async () => {
    const info = await source.stat('box', 'inner/ok.txt');
    await expectFailure(source.read('box', info, { start: 0, end: info.size + 1 }), { type: SourceError, code: 'INTERNAL' });
    await expectFailure(source.read('box', info, { start: 3, end: 2 }), { type: SourceError, code: 'INTERNAL' });
  });

  it('SOURCE_CHANGED when the file was deleted after stat', async () => {
    const path = join(dir.path, 'box', 'gone.txt');
    await writeFile(path, 'soon gone');
    const info = await source.stat('box', 'gone.txt');
    await rm(path);
    await expectFailure(source.read('box', info, { start: 0, end: info.size }), { type: SourceError, code: 'SOURCE_CHANGED' });
  });

  it('SOURCE_CHANGED at the end of a read when the file changed while it was read', async () => {
    const path = join(dir.path, 'box', 'growing.bin');
    await writeFile(path, randomBytes(4 * 1024 * 1024));
    const info = await source.stat('box', 'growing.bin');
    const stream = await source.read('box', info, { start: 0, end: info.size });
    const readGrowing = async (): Promise<void> => {
      let first = true;
      for await (const _chunk of stream) {
        if (first) await appendFile(path, 'appended while the transfer reads');
        first = false;
      }
    };
    const error = await expectFailure(readGrowing(), { type: SourceError, code: 'SOURCE_CHANGED' });
    assert.equal(error.retryable, false);
  });

  it('the file:// location in messages names the root, container and key', async () => {
    const error = await expectFailure(source.stat('box', 'inner/missing.txt'), { type: SourceError });
    assert.ok(error.message.includes(`file://${dir.path}/box/inner/missing.txt`), error.message);
  });
});
