import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LocalSource } from '../../src/adapters/source/localSource';
import { storageSourceConformance } from './storageSourceSuite';
import { tempDir } from '../support/tmp';

storageSourceConformance('local folder', async () => {
  const dir = await tempDir('local-source');
  const write = async (container: string, key: string, body: Buffer): Promise<void> => {
    const path = join(dir.path, container, ...key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  };
  return {
    source: new LocalSource(dir.path),
    seed: write,
    mutate: write,
    teardown: () => dir.remove(),
  };
});
