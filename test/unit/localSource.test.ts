import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SourceError } from '../../src/errors';
import { LocalSource } from '../../src/adapters/source/localSource';
import { tempDir } from '../support/tmp';

/** LocalSource behaviour beyond the shared conformance suite: confinement to the root, and files changing under a read. */
describe('LocalSource', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let outside: { path: string; remove: () => Promise<void> };
  let source: LocalSource;

  async function failure(promise: Promise<unknown>): Promise<SourceError> {
    const error = await promise.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
    return error;
  }

  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

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
      const error = await failure(source.stat('box', key));
      assert.equal(error.code, 'INVALID_PATH');
      assert.ok(error.hint);
    });
  }

  for (const container of ['..', '.', '', 'box/inner', '../box']) {
    it(`refuses the container ${JSON.stringify(container)} as INVALID_PATH`, async () => {
      assert.equal((await failure(source.stat(container, 'ok.txt'))).code, 'INVALID_PATH');
      assert.equal((await failure(source.list(container))).code, 'INVALID_PATH');
    });
  }

  it('refuses a prefix that climbs out', async () => {
    assert.equal((await failure(source.list('box', { prefix: '../' }))).code, 'INVALID_PATH');
  });

  it('a symlink leading out of the root is NOT_FOUND to stat, and an empty folder to list', async () => {
    const error = await failure(source.stat('box', 'escape.txt'));
    assert.equal(error.code, 'NOT_FOUND');
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
    assert.equal((await failure(source.list('box', { token: 'not-a-token' }))).code, 'INVALID_PATH');
  });

  it('a range outside the object is refused before any read', async () => {
    const info = await source.stat('box', 'inner/ok.txt');
    assert.equal((await failure(source.read('box', info, { start: 0, end: info.size + 1 }))).code, 'INTERNAL');
    assert.equal((await failure(source.read('box', info, { start: 3, end: 2 }))).code, 'INTERNAL');
  });

  it('SOURCE_CHANGED when the file was deleted after stat', async () => {
    const path = join(dir.path, 'box', 'gone.txt');
    await writeFile(path, 'soon gone');
    const info = await source.stat('box', 'gone.txt');
    await rm(path);
    assert.equal((await failure(source.read('box', info, { start: 0, end: info.size }))).code, 'SOURCE_CHANGED');
  });

  it('SOURCE_CHANGED at the end of a read when the file changed while it was read', async () => {
    const path = join(dir.path, 'box', 'growing.bin');
    await writeFile(path, randomBytes(4 * 1024 * 1024));
    const info = await source.stat('box', 'growing.bin');
    const stream = await source.read('box', info, { start: 0, end: info.size });
    const error = await (async () => {
      let first = true;
      for await (const _chunk of stream) {
        if (first) await appendFile(path, 'appended while the transfer reads');
        first = false;
      }
    })().then(
      () => assert.fail('the read should fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SourceError, String(error));
    assert.equal(error.code, 'SOURCE_CHANGED');
    assert.equal(error.retryable, false);
  });

  it('the file:// location in messages names the root, container and key', async () => {
    const error = await failure(source.stat('box', 'inner/missing.txt'));
    assert.ok(error.message.includes(`file://${dir.path}/box/inner/missing.txt`), error.message);
  });
});
