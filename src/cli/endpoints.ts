import { isAbsolute, resolve } from 'node:path';
import { sourceSchemes } from '../adapters/registry';
import type { DestinationSpec, HostKeyTrust } from '../domain/destinationSpec';
import { ConfigError } from '../domain/errors';
import { TYPED_PASSWORD, type SecretRef } from '../domain/secretRef';
import type { StorageSource } from '../ports/storageSource';
import type { Location } from './locationUrl';

/**
 * The CLI's side of the composition root: turns parsed locations and flags into a source from
 * the registry and a DestinationSpec for the one destination factory the bot uses too. Secrets
 * are references (the key file, FILEFERRY_DEST_PASSWORD, FILEFERRY_KEY_PASSPHRASE) or a password
 * typed at the prompt (held in memory only); never argv.
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

/** A destination as the CLI names it: the spec, and the secrets typed at the prompt. */
export interface DestinationEndpoint {
  spec: DestinationSpec;
  typed: Map<SecretRef, string>;
}

/** The storage service behind a source scheme, before any bucket is named (for `ls s3://`). */
export function storageFor(scheme: 's3' | 'azblob', env: NodeJS.ProcessEnv): StorageSource {
  return sourceSchemes[scheme](env);
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
      return { source: sourceSchemes.file(), container, key: rest.join('/') };
    }
    default:
      throw new ConfigError(`${location.kind}:// cannot be a source.`, 'Sources are s3://, azblob:// and file:///.');
  }
}

export async function destinationEndpoint(location: Location, options: EndpointOptions): Promise<DestinationEndpoint> {
  const typed = new Map<SecretRef, string>();
  const passwordRef = async (optional: boolean): Promise<SecretRef | undefined> => {
    if (options.env.FILEFERRY_DEST_PASSWORD !== undefined) return 'env:FILEFERRY_DEST_PASSWORD';
    if (optional || !('host' in location)) return undefined;
    typed.set(TYPED_PASSWORD, await options.askPassword(`Password for ${location.username}@${location.host}: `));
    return TYPED_PASSWORD;
  };
  switch (location.kind) {
    case 'file':
      return { spec: { protocol: 'local', root: '/', folder: '/' }, typed };
    case 'sftp': {
      const privateKeyRef = options.identityFile ? `file:${resolve(options.identityFile)}` : undefined;
      const password = await passwordRef(privateKeyRef !== undefined);
      const spec: DestinationSpec = {
        protocol: 'sftp',
        host: location.host,
        port: location.port,
        username: location.username,
        folder: location.path,
        hostKey: sftpHostKey(options),
        ...(password ? { passwordRef: password } : {}),
        ...(privateKeyRef ? { privateKeyRef } : {}),
        ...(privateKeyRef && options.env.FILEFERRY_KEY_PASSPHRASE !== undefined ? { passphraseRef: 'env:FILEFERRY_KEY_PASSPHRASE' } : {}),
        allowRemoteHash: options.sshHash,
      };
      return { spec, typed };
    }
    case 'ftp':
    case 'ftps':
      return {
        spec: {
          protocol: location.kind,
          host: location.host,
          port: location.port,
          username: location.username,
          folder: location.path,
          passwordRef: (await passwordRef(false))!,
          ...(options.caFile ? { caFile: isAbsolute(options.caFile) ? options.caFile : resolve(options.caFile) } : {}),
          allowPlainFtp: options.allowPlainFtp,
        },
        typed,
      };
    default:
      throw new ConfigError(`${location.kind}:// cannot be a destination.`, 'Destinations are sftp://, ftps://, ftp:// and file:///.');
  }
}

function sftpHostKey(options: EndpointOptions): HostKeyTrust {
  if (options.hostKey) return { fingerprint: options.hostKey };
  if (options.knownHostsFile) return { knownHostsFile: options.knownHostsFile };
  const home = options.env.HOME;
  if (home) return { knownHostsFile: `${home}/.ssh/known_hosts` };
  throw new ConfigError('No host key to check the SFTP server against.', 'Pass --host-key SHA256:… or --known-hosts FILE.');
}
