import { MemoryHostKeys } from '../../src/adapters/store/memoryHostKeys';
import { hostKeyStoreConformance } from './hostKeyStoreSuite';

describe('MemoryHostKeys', () => {
  // Keys live in the instance: no `reopen`, so the suite declares no durability cases here.
  hostKeyStoreConformance('in memory', {
    create: async () => new MemoryHostKeys(),
  });
});
