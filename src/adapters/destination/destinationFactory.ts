import { readFile } from 'node:fs/promises';
import { destinationLabel, type DestinationSpec, type FtpSpec, type SftpSpec } from '../../domain/destinationSpec';
import { ConfigError } from '../../domain/errors';
import type { SecretRef } from '../../domain/secretRef';
import type { ConnectOptions, Destination, DestinationSession } from '../../ports/destination';
import type { DestinationFactory, OpenDestinationOptions, PresentedHostKey } from '../../ports/destinationFactory';
import type { SecretStore } from '../../ports/secretStore';
import { LocalDestination } from './localDestination';
import type { HostKeyPolicy } from './sftpDestination';

/**
 * The destination factory: a DestinationSpec (data, secrets by reference) becomes a concrete
 * destination at each connect, after its secrets are resolved, so nothing secret is held between
 * connections and a secret rotated while a transfer retries applies to its next attempt.
 */
export const destinationFactory: DestinationFactory = {
  open(spec: DestinationSpec, options: OpenDestinationOptions): Destination {
    if (spec.protocol === 'local') return new LocalDestination({ root: spec.root, label: spec.label });
    if (spec.protocol === 'sftp' && !spec.hostKey && !options.onUnknownHostKey) {
      throw new ConfigError(`No host key to check the SFTP server ${spec.host}:${spec.port} against.`, 'Pin its SHA256 fingerprint or name a known_hosts file.');
    }
    if (spec.protocol !== 'sftp' && !spec.passwordRef) {
      throw new ConfigError(`No password is configured for ${destinationLabel(spec)}.`, 'Name where its password lives (a secret reference such as env:NAME).');
    }
    if (spec.protocol === 'sftp' && !spec.passwordRef && !spec.privateKeyRef) {
      throw new ConfigError(`No password or private key is configured for ${destinationLabel(spec)}.`, 'Name a password or private key reference.');
    }
    const label = destinationLabel(spec);
    return {
      label,
      async connect(signal?: AbortSignal, connectOptions?: ConnectOptions): Promise<DestinationSession> {
        const concrete = spec.protocol === 'sftp' ? await sftp(spec, options, signal) : await ftp(spec, options.secrets, signal);
        return concrete.connect(signal, connectOptions);
      },
    };
  },
};

async function sftp(spec: SftpSpec, options: OpenDestinationOptions, signal?: AbortSignal): Promise<Destination> {
  const { secrets, onUnknownHostKey } = options;
  // ssh2 and basic-ftp load on a protocol's first connect: a process that only moves files by
  // FTP (or only by SFTP) never compiles the other's library.
  const { SftpDestination } = require('./sftpDestination') as typeof import('./sftpDestination');
  return new SftpDestination({
    host: spec.host,
    port: spec.port,
    username: spec.username,
    password: await optional(secrets, spec.passwordRef, signal),
    privateKey: await optional(secrets, spec.privateKeyRef, signal),
    passphrase: await optional(secrets, spec.passphraseRef, signal),
    hostKey: spec.hostKey ?? probe(onUnknownHostKey!),
    allowRemoteHash: spec.allowRemoteHash ?? false,
  });
}

async function ftp(spec: FtpSpec, secrets: SecretStore, signal?: AbortSignal): Promise<Destination> {
  const { FtpDestination } = require('./ftpDestination') as typeof import('./ftpDestination');
  return new FtpDestination({
    protocol: spec.protocol,
    host: spec.host,
    port: spec.port,
    username: spec.username,
    password: await secrets.resolve(spec.passwordRef!, signal),
    ca: spec.caFile ? await readCa(spec.caFile) : undefined,
    allowPlaintext: spec.allowPlainFtp ?? false,
  });
}

function optional(secrets: SecretStore, ref: SecretRef | undefined, signal?: AbortSignal): Promise<string | undefined> {
  return ref ? secrets.resolve(ref, signal) : Promise.resolve(undefined);
}

/** Reports the unknown key (with its type) and refuses the login, so no credential reaches an unconfirmed server. */
function probe(onUnknown: (key: PresentedHostKey) => void): HostKeyPolicy {
  return {
    acceptUnknown: (fingerprint, keyType) => {
      onUnknown({ fingerprint, keyType });
      return false;
    },
  };
}

async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ConfigError(`Cannot read the CA file ${path} (${(e as NodeJS.ErrnoException).code}).`, 'Check the path of the destination\'s caFile (or --ca).');
  }
}
