import { ConfigError } from '../../domain/errors';
import type { StorageSource } from '../../ports/storageSource';
import { AzureBlobSource } from './azureBlobSource';

/**
 * An Azure Blob source from the process's environment: a connection string, or an account URL
 * with a SAS query, or an account URL signed in through `az login` / a managed identity.
 */
export function azureSourceFromEnv(env: NodeJS.ProcessEnv): StorageSource {
  if (env.AZURE_STORAGE_CONNECTION_STRING) return new AzureBlobSource({ connectionString: env.AZURE_STORAGE_CONNECTION_STRING });
  const accountUrl = env.AZURE_STORAGE_ACCOUNT_URL;
  if (!accountUrl) {
    throw new ConfigError(
      'No Azure Blob account is configured.',
      'Set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL (with a SAS query, or signed in with az login / a managed identity).',
    );
  }
  if (new URL(accountUrl).search) return new AzureBlobSource({ accountUrl, sas: true });
  // Loaded lazily: @azure/identity is only needed for token sign-in.
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return new AzureBlobSource({ accountUrl, credential: new DefaultAzureCredential() });
}
