import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalIdentity } from '../../src/adapters/identity/localIdentity';
import { LocalSource } from '../../src/adapters/source/localSource';
import { identityProviderConformance, type ReadableObject } from './identityProviderSuite';
import { tempDir } from '../support/tmp';

describe('LocalIdentity', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const object: ReadableObject = { container: 'bucket', key: 'reports/2024/été.csv', body: Buffer.from('id,total\n1,42\n') };

  before(async () => {
    dir = await tempDir('local-identity');
    await mkdir(join(dir.path, object.container, 'reports', '2024'), { recursive: true });
    await writeFile(join(dir.path, object.container, object.key), object.body);
  });
  after(async () => dir.remove());

  // "Continue as": no person in the loop, so no approve() or deny() hook.
  identityProviderConformance('local sign-in', {
    create: async () => new LocalIdentity(() => new LocalSource(dir.path)),
    scope: (requestId) => ({ requestId, user: { id: '29:local-user-1', tenantId: 'tenant-0001', name: 'Ann Example' }, cloud: 'local', region: 'local' }),
    readable: () => object,
  });
});
