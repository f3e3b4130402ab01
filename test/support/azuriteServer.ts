import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  type ContainerClient,
} from '@azure/storage-blob';
import { startChildServer } from './childServer';
import { tempDir } from './tmp';

/**
 * Azurite's well-known development account. Not a secret: the key is published in Azurite's
 * and Azure's documentation and works only against a local emulator.
 */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteServer {
  port: number;
  /** http://127.0.0.1:PORT/devstoreaccount1 */
  blobEndpoint: string;
  /** A connection string for the development account on this server. */
  connectionString: string;
  /** A client with write rights, for the test harness only (adapters under test never write). */
  admin: BlobServiceClient;
  /**
   * Creates the container when needed and uploads `body` as a block blob in one request. Azurite
   * stores the Content-MD5 it is given (`contentMD5`, raw 16 bytes) and computes one otherwise.
   */
  seed(container: string, name: string, body: Buffer, options?: { contentMD5?: Buffer }): Promise<void>;
  /** An account SAS token (no leading '?') for the blob service, valid one hour, with `permissions` (e.g. 'rl'). */
  accountSas(permissions: string): string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's blob service (npm `azurite`) in a child process on a loopback port the OS picks,
 * storing into a fresh temp folder, with telemetry off (it would phone home) and API-version
 * checks relaxed so the current @azure/storage-blob can talk to it.
 */
export async function startAzurite(): Promise<AzuriteServer> {
  const dir = await tempDir('azurite');
  try {
    const bin = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
    const child = await startChildServer(
      'Azurite',
      [bin, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', dir.path, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'],
      /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/,
    );
    const blobEndpoint = `http://127.0.0.1:${child.port}/${AZURITE_ACCOUNT}`;
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`;
    const admin = BlobServiceClient.fromConnectionString(connectionString);
    const containers = new Map<string, ContainerClient>();

    async function seed(container: string, name: string, body: Buffer, options: { contentMD5?: Buffer } = {}): Promise<void> {
      let client = containers.get(container);
      if (!client) {
        client = admin.getContainerClient(container);
        await client.createIfNotExists();
        containers.set(container, client);
      }
      await client.getBlockBlobClient(name).uploadData(body, {
        maxSingleShotSize: 256 * 1024 * 1024,
        blobHTTPHeaders: options.contentMD5 ? { blobContentMD5: options.contentMD5 } : undefined,
      });
      const stored = await client.getBlobClient(name).downloadToBuffer();
      if (!stored.equals(body)) {
        const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
        throw new Error(`Azurite stored ${container}/${name} with SHA-256 ${sha(stored)}, not the body's ${sha(body)}.`);
      }
    }

    function accountSas(permissions: string): string {
      return generateAccountSASQueryParameters(
        {
          permissions: AccountSASPermissions.parse(permissions),
          resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
          services: AccountSASServices.parse('b').toString(),
          startsOn: new Date(Date.now() - 5 * 60_000),
          expiresOn: new Date(Date.now() + 60 * 60_000),
        },
        new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
      ).toString();
    }

    async function stop(): Promise<void> {
      try {
        await child.stop();
      } finally {
        await dir.remove();
      }
    }

    return { port: child.port, blobEndpoint, connectionString, admin, seed, accountSas, stop };
  } catch (e) {
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
