import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalDestination } from '../../src/adapters/destination/localDestination';
import { LocalSource } from '../../src/adapters/source/localSource';
import { runTransfer } from '../../src/transfer/engine';
import type { TransferEvent } from '../../src/transfer/types';
import { tempDir } from '../support/tmp';

describe('engine: resuming a temporary file an earlier process left', () => {
  it('continues from the bytes the server holds, and the SHA-256 still covers every byte', async () => {
    const dir = await tempDir('resume-restart');
    try {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await mkdir(join(dir.path, 'src', 'bucket'), { recursive: true });
      await mkdir(join(dir.path, 'out', 'in'), { recursive: true });
      await writeFile(join(dir.path, 'src', 'bucket', 'big.bin'), data);
      // What the process that died had written: the first 1 MiB + 5 bytes under its temporary name.
      const temporary = '/in/.big.bin.abc123.fileferry-part';
      await writeFile(join(dir.path, 'out', temporary), data.subarray(0, 1024 * 1024 + 5));
      const events: TransferEvent[] = [];
      const result = await runTransfer({
        source: new LocalSource(join(dir.path, 'src')),
        container: 'bucket',
        key: 'big.bin',
        destination: new LocalDestination({ root: join(dir.path, 'out') }),
        remotePath: '/in/big.bin',
        overwrite: 'fail',
        resumeTemporaryPath: temporary,
        onEvent: (e) => void events.push(e),
      });
      assert.deepEqual(result.resumedFromBytes, [1024 * 1024 + 5]);
      assert.equal(result.sha256, createHash('sha256').update(data).digest('hex'));
      assert.deepEqual(await readFile(join(dir.path, 'out', 'in', 'big.bin')), data);
      assert.deepEqual(await readdir(join(dir.path, 'out', 'in')), ['big.bin'], 'the temporary name is gone');
      assert.ok(events.some((e) => e.type === 'started' && e.temporaryPath === temporary));
    } finally {
      await dir.remove();
    }
  });
});
