import { dirname, join } from 'node:path';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { startChildServer } from './childServer';
import { AZURITE_ACCOUNT } from './azuriteServer';
import { generateTestCertificates } from './testCertificates';
import { tempDir } from './tmp';

/** Azurite's published development key (not a secret; see azuriteServer.ts). */
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOAuthServer {
  port: number;
  /** https://127.0.0.1:PORT/devstoreaccount1: the account URL a token-credential client uses. */
  accountUrl: string;
  /** PEM of the CA that issued Azurite's certificate, for clients to trust. */
  caPem: string;
  /** Creates the container when needed and uploads `body` with the account key, over HTTPS. */
  seed(container: string, name: string, body: Buffer): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's blob service with `--oauth basic` over HTTPS: bearer tokens are accepted when
 * their issuer starts with https://sts.windows.net/, their audience is https://storage.azure.com
 * (or the account's blob host) and now lies between nbf and exp; Azurite checks no signature
 * (BlobTokenAuthenticator.authenticateBasic). OAuth needs HTTPS, so the server gets a certificate
 * for 127.0.0.1 from a throw-away test CA. Shared-key requests still work: the seeding client
 * uses the development account key, trusting the CA through its pipeline's `tlsOptions`.
 */
export async function startAzuriteOAuth(): Promise<AzuriteOAuthServer> {
  const dir = await tempDir('azurite-oauth');
  try {
    const certs = generateTestCertificates(dir.path);
    const bin = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
    const child = await startChildServer(
      'Azurite (OAuth, HTTPS)',
      [
        bin, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', join(dir.path, 'data'), '--silent', '--skipApiVersionCheck', '--loose',
        '--disableTelemetry', '--oauth', 'basic', '--cert', certs.certFile, '--key', certs.keyFile,
      ],
      /successfully listens on https:\/\/127\.0\.0\.1:(\d+)/,
    );
    const accountUrl = `https://127.0.0.1:${child.port}/${AZURITE_ACCOUNT}`;
    const connectionString = `DefaultEndpointsProtocol=https;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${accountUrl};`;
    // `tlsOptions` is passed through to core-rest-pipeline's createPipelineFromOptions (tlsPolicy),
    // though StoragePipelineOptions does not declare it.
    const admin = BlobServiceClient.fromConnectionString(connectionString, { tlsOptions: { ca: certs.caPem } } as StoragePipelineOptions);

    async function seed(container: string, name: string, body: Buffer): Promise<void> {
      const client = admin.getContainerClient(container);
      await client.createIfNotExists();
      await client.getBlockBlobClient(name).uploadData(body);
      const stored = await client.getBlobClient(name).downloadToBuffer();
      if (!stored.equals(body)) throw new Error(`Azurite stored ${container}/${name} with other bytes than were seeded.`);
    }

    async function stop(): Promise<void> {
      try {
        await child.stop();
      } finally {
        await dir.remove();
      }
    }

    return { port: child.port, accountUrl, caPem: certs.caPem, seed, stop };
  } catch (e) {
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
