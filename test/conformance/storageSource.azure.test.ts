import { AzureBlobSource } from '../../src/adapters/source/azureBlobSource';
import { storageSourceConformance } from './storageSourceSuite';
import { startAzurite } from '../support/azuriteServer';

storageSourceConformance('Azure Blob (Azurite)', async () => {
  const server = await startAzurite();
  return {
    source: new AzureBlobSource({ connectionString: server.connectionString }),
    seed: (container, key, body) => server.seed(container, key, body),
    mutate: (container, key, body) => server.seed(container, key, body),
    teardown: () => server.stop(),
  };
});
