import { MemoryRequestRepository } from '../../src/adapters/store/memoryRequestRepository';
import { requestRepositoryConformance } from './requestRepositorySuite';

describe('MemoryRequestRepository', () => {
  // Records live in the instance: there is no storage to reopen, so no `reopen` hook and the
  // suite declares no durability cases for this store.
  requestRepositoryConformance('in memory', {
    create: async () => new MemoryRequestRepository(),
  });
});
