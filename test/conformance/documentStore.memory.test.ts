import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { documentStoreConformance } from './documentStoreSuite';

describe('MemoryDocuments', () => {
  // Documents live in the instance: no `reopen`, so the suite declares no durability cases here.
  documentStoreConformance('in memory', {
    create: async (now) => new MemoryDocuments(now),
  });
});
