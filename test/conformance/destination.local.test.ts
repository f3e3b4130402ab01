import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalDestination } from '../../src/adapters/destination/localDestination';
import { destinationConformance, type DestinationFixture } from './destinationSuite';
import { faultyDestination } from '../support/faultyLocalDestination';
import { tempDir } from '../support/tmp';

describe('LocalDestination', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let fixture: DestinationFixture;

  before(async () => {
    dir = await tempDir('local-dest');
    const destination = new LocalDestination({ root: dir.path });
    fixture = {
      destination,
      root: '/',
      readServerFile: (path) => readFile(join(dir.path, path)),
      listServerDir: async (path) => (await readdir(join(dir.path, path))).sort(),
      withFault: async (rule) => ({ destination: faultyDestination(destination, rule), close: async () => undefined }),
    };
  });
  after(async () => dir.remove());

  destinationConformance('local folder', () => fixture);
});
