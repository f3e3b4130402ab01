import { readFile } from 'node:fs/promises';
import { ConfigError } from '../domain/errors';
import type { Destination } from '../ports/destination';
import type { StorageSource } from '../ports/storageSource';
import { LocalSource } from '../adapters/source/localSource';
import { S3Source } from '../adapters/source/s3Source';
import { AzureBlobSource } from '../adapters/source/azureBlobSource';
import { LocalDestination } from '../adapters/destination/localDestination';
import { SftpDestination } from '../adapters/destination/sftpDestination';
import { FtpDestination } from '../adapters/destination/ftpDestination';
import type { Location } from './locationUrl';

/**
 * The CLI's composition root: turns parsed locations and options into concrete adapters. Secrets
 * come from the environment, files or a prompt, never from argv.
 */
export interface EndpointOptions {
  identityFile?: string;
  hostKey?: string;
  knownHostsFile?: string;
  caFile?: string;
  allowPlainFtp: boolean;
  sshHash: boolean;
  /** Asks for the destination password when FILEFERRY_DEST_PASSWORD is unset. */
  askPassword: (prompt: string) => Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface SourceEndpoint {
  source: StorageSource;
  container: string;
  key: string;
}

/** The storage service behind a source scheme, before any bucket is named (for `ls s3://`). */
export function storageFor(scheme: 's3' | 'azblob', env: NodeJS.ProcessEnv): StorageSource {
  return scheme === 's3' ? new S3Source({ region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1' }) : azureSource(env);
}

export function openSource(location: Location, env: NodeJS.ProcessEnv): SourceEndpoint {
  switch (location.kind) {
    case 's3':
      return { source: storageFor('s3', env), container: location.bucket, key: location.key };
    case 'azblob':
      return { source: storageFor('azblob', env), container: location.container, key: location.key };
    case 'file': {
      // LocalSource reads "containers" below a root: the first folder of the path is the container.
      const [container, ...rest] = location.path.split('/').filter(Boolean);
      if (!container) throw new ConfigError('file:/// names no folder.', 'Write file:///folder/file.');
      return { source: new LocalSource('/'), container, key: rest.join('/') };
    }
    default:
      throw new ConfigError(`${location.kind}:// cannot be a source.`, 'Sources are s3://, azblob:// and file:///.');
  }
}

function azureSource(env: NodeJS.ProcessEnv): StorageSource {
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return new AzureBlobSource({ accountUrl, credential: new DefaultAzureCredential() });
}

export async function openDestination(location: Location, options: EndpointOptions): Promise<Destination> {
  switch (location.kind) {
    case 'file':
      return new LocalDestination({ root: '/' });
    case 'sftp': {
      const privateKey = options.identityFile ? await readSecretFile(options.identityFile, '--identity') : undefined;
      const password = privateKey ? options.env.FILEFERRY_DEST_PASSWORD : await password_(location, options);
      return new SftpDestination({
        host: location.host,
        port: location.port,
        username: location.username,
        password,
        privateKey,
        passphrase: options.env.FILEFERRY_KEY_PASSPHRASE,
        hostKey: sftpHostKey(options),
        allowRemoteHash: options.sshHash,
      });
    }
    case 'ftp':
    case 'ftps':
      return new FtpDestination({
        protocol: location.kind,
        host: location.host,
        port: location.port,
        username: location.username,
        password: await password_(location, options),
        ca: options.caFile ? await readSecretFile(options.caFile, '--ca') : undefined,
        allowPlaintext: options.allowPlainFtp,
      });
    default:
      throw new ConfigError(`${location.kind}:// cannot be a destination.`, 'Destinations are sftp://, ftps://, ftp:// and file:///.');
  }
}

function sftpHostKey(options: EndpointOptions): ConstructorParameters<typeof SftpDestination>[0]['hostKey'] {
  if (options.hostKey) return { fingerprint: options.hostKey };
  if (options.knownHostsFile) return { knownHostsFile: options.knownHostsFile };
  const home = options.env.HOME;
  if (home) return { knownHostsFile: `${home}/.ssh/known_hosts` };
  throw new ConfigError('No host key to check the SFTP server against.', 'Pass --host-key SHA256:… or --known-hosts FILE.');
}

async function password_(location: Extract<Location, { host: string }>, options: EndpointOptions): Promise<string> {
  const fromEnv = options.env.FILEFERRY_DEST_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  return options.askPassword(`Password for ${location.username}@${location.host}: `);
}

async function readSecretFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ConfigError(`Cannot read ${flag} file ${path} (${(e as NodeJS.ErrnoException).code}).`, `Check the path given to ${flag}.`);
  }
}

