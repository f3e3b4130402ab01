import type { LendRequest, LentCredential, SourceRecipe } from '../../ports/portableSource';
import type { StorageSource } from '../../ports/storageSource';
import { AzureBlobSource } from '../source/azureBlobSource';
import { LocalSource } from '../source/localSource';
import { S3Source } from '../source/s3Source';

/** Asks the thread that holds the source for its credential (PortableSource.lend). */
export type Lend = (request: LendRequest) => Promise<LentCredential>;

/**
 * Opens a source from its recipe in this thread (a transfer's worker), its credential borrowed
 * from the thread that holds the original each time the SDK wants a fresh one: the SDKs cache
 * what they are given until it nears its expiry, so this is a call per hour, not per request.
 */
export function openPortableSource(recipe: SourceRecipe, lend: Lend): StorageSource {
  switch (recipe.kind) {
    case 'file':
      return new LocalSource(recipe.root);
    case 's3':
      return new S3Source({
        ...(recipe.region ? { region: recipe.region } : {}),
        ...(recipe.endpoint ? { endpoint: recipe.endpoint } : {}),
        ...(recipe.listRegion ? { listRegion: recipe.listRegion } : {}),
        ...(recipe.credentials === 'lent' ? { credentials: () => lend({}) as Promise<Extract<LentCredential, { accessKeyId: string }>> } : {}),
      });
    case 'azblob':
      return new AzureBlobSource({
        accountUrl: recipe.accountUrl,
        credential: {
          getToken: async (scopes, options) =>
            lend({ scopes: typeof scopes === 'string' ? [scopes] : scopes, ...(options?.claims ? { claims: options.claims } : {}), ...(options?.tenantId ? { tenantId: options.tenantId } : {}) }) as Promise<Extract<LentCredential, { token: string }>>,
        },
      });
  }
}
