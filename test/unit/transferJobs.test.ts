import { strict as assert } from 'node:assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { destinationFactory } from '../../src/adapters/destination/destinationFactory';
import { buildSecrets } from '../../src/adapters/registry';
import { LocalSource } from '../../src/adapters/source/localSource';
import type { DestinationSpec } from '../../src/domain/destinationSpec';
import type { TransferJobSpec } from '../../src/domain/transferJobSpec';
import type { TransferRequest, TransferResult } from '../../src/transfer/types';
import { TransferJobs } from '../../src/workflow/transferJobs';
import { transferWorkers } from '../../src/index';
import { TransferThreads } from '../../src/transfer/thread/transferThreads';
import { tempDir } from '../support/tmp';

const FINGERPRINT = `SHA256:${'B'.repeat(43)}`;

/** A job's spec to a saved SFTP destination (nothing connects: the engine is recorded, not run). */
function spec(destination: DestinationSpec): TransferJobSpec {
  return {
    requestId: 'req-1',
    source: { scheme: 'file', container: 'bucket', object: { key: 'big.bin', size: 128 * 1024 * 1024 } },
    destination,
    remotePath: '/in/big.bin',
    overwrite: 'fail',
  };
}

describe('TransferJobs: a job spec becomes the engine request', () => {
  async function requestFor(destination: DestinationSpec): Promise<TransferRequest> {
    const seen: TransferRequest[] = [];
    const jobs = new TransferJobs({
      run: async (request) => {
        seen.push(request);
        return { status: 'completed', bytes: 0, sha256: '', seconds: 0, attempts: 1, resumedFromBytes: [], verification: 'size', finalPath: request.remotePath } satisfies TransferResult;
      },
      destinations: destinationFactory,
      secrets: buildSecrets({ env: {} }),
    });
    const outcome = await jobs.start(spec(destination), { source: new LocalSource('/nonexistent') }, {});
    assert.ok(outcome.ok);
    assert.equal(seen.length, 1);
    return seen[0]!;
  }

  const sftp = { protocol: 'sftp', host: 'far.example', port: 22, username: 'ff', folder: '/in', passwordRef: 'env:FAR_PW', hostKey: { fingerprint: FINGERPRINT } } as const;

  it("a saved SFTP destination's connections reach the engine (striping to a distant server)", async () => {
    assert.equal((await requestFor({ ...sftp, connections: 4 })).connections, 4);
  });

  it("without connections the engine's default applies (nothing is passed)", async () => {
    assert.equal((await requestFor(sftp)).connections, undefined);
    assert.equal((await requestFor({ protocol: 'local', root: '/tmp', folder: '/' })).connections, undefined);
  });
});

describe('TransferJobs with a worker thread per job', () => {
  it('runs the job in a worker (the in-process engine is not called) and reports its progress here', async () => {
    const dir = await tempDir('jobs-thread');
    try {
      await mkdir(join(dir.path, 'src', 'bucket'), { recursive: true });
      await mkdir(join(dir.path, 'out'));
      await writeFile(join(dir.path, 'src', 'bucket', 'a.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
      const source = new LocalSource(join(dir.path, 'src'));
      const object = await source.stat('bucket', 'a.bin');
      let spawned = 0;
      const spawnRoot = transferWorkers();
      const threads = new TransferThreads(() => (spawned++, spawnRoot()), 1);
      const jobs = new TransferJobs({
        run: () => Promise.reject(new Error('the in-process engine must not run')),
        destinations: destinationFactory,
        secrets: buildSecrets({ env: {} }),
        threads,
      });
      const job: TransferJobSpec = {
        requestId: 'req-t',
        source: { scheme: 'file', container: 'bucket', object: { key: 'a.bin', size: object.size, lastModified: object.lastModified?.toISOString(), etag: object.etag } },
        destination: { protocol: 'local', root: join(dir.path, 'out'), folder: '/' },
        remotePath: '/a.bin',
        overwrite: 'fail',
      };
      const progress: number[] = [];
      const outcome = await jobs.start(job, { source }, { onProgress: (p) => progress.push(p.bytes) });
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.error.message);
      assert.equal(spawned, 1);
      assert.equal(progress.at(-1), 3 * 1024 * 1024);
      assert.deepEqual(await readFile(join(dir.path, 'out', 'a.bin')), Buffer.alloc(3 * 1024 * 1024, 7));
      assert.equal(jobs.active, 0);
      await threads.close();
    } finally {
      await dir.remove();
    }
  });
});
