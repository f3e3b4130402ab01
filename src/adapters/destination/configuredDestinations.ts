import type { SavedDestinationConfig } from '../../config';
import { ConfigError } from '../../domain/errors';
import type { Destination } from '../../ports/destination';
import type { DestinationCatalog, DestinationDescription, HostKeyCheck } from '../../workflow/destinationCatalog';
import type { DestinationSpec } from '../../domain/requestRecord';
import { WorkflowError } from '../../domain/workflowError';
import { FtpDestination } from './ftpDestination';
import { LocalDestination } from './localDestination';
import { SftpDestination, type HostKeyPolicy } from './sftpDestination';

/**
 * The destinations the bot may send to: the saved ones from config (credentials from the
 * environment variable each names, read at connect time so a rotated secret applies at once; SFTP
 * host keys pinned) and ad-hoc ones typed on the card where policy allows. The registry keyed by
 * config that ARCHITECTURE.md allows to import concrete adapters.
 */
export class ConfiguredDestinations implements DestinationCatalog {
  private readonly byName = new Map<string, SavedDestinationConfig>();

  constructor(
    saved: readonly SavedDestinationConfig[],
    private readonly options: { allowPlainFtp: boolean; env?: NodeJS.ProcessEnv } = { allowPlainFtp: false },
  ) {
    for (const d of saved) this.byName.set(d.name, d);
  }

  savedNames(): string[] {
    return [...this.byName.keys()];
  }

  describe(spec: DestinationSpec): DestinationDescription {
    if (spec.kind === 'adhoc') {
      return { label: `${spec.protocol}://${spec.username}@${spec.host}:${spec.port}`, protocol: spec.protocol, remoteFolder: spec.remoteFolder };
    }
    const d = this.saved(spec.name);
    if (d.protocol === 'local') return { label: d.name, protocol: 'local', remoteFolder: d.remoteFolder };
    return {
      label: `${d.name} (${d.protocol}://${d.username}@${d.host}:${d.port ?? (d.protocol === 'sftp' ? 22 : 21)})`,
      protocol: d.protocol,
      remoteFolder: d.remoteFolder,
      pinnedFingerprint: d.hostKeyFingerprint,
    };
  }

  open(spec: DestinationSpec, options: { password?: string; hostKey?: HostKeyCheck }): Destination {
    if (spec.kind === 'adhoc') {
      const password = options.password ?? '';
      if (spec.protocol === 'sftp') {
        if (!options.hostKey) throw new WorkflowError('NOT_ALLOWED', `No host key check for ${spec.host}:${spec.port}.`);
        return new SftpDestination({ host: spec.host, port: spec.port, username: spec.username, password, hostKey: policyOf(options.hostKey) });
      }
      return new FtpDestination({ protocol: spec.protocol, host: spec.host, port: spec.port, username: spec.username, password, allowPlaintext: this.options.allowPlainFtp });
    }
    const d = this.saved(spec.name);
    if (d.protocol === 'local') return new LocalDestination({ root: d.root, label: d.name });
    const password = this.secret(d);
    if (d.protocol === 'sftp') {
      return new SftpDestination({ host: d.host, port: d.port ?? 22, username: d.username, password, hostKey: { fingerprint: d.hostKeyFingerprint! } });
    }
    // A saved plain-FTP destination is the operator's explicit consent.
    return new FtpDestination({ protocol: d.protocol, host: d.host, port: d.port ?? 21, username: d.username, password, allowPlaintext: d.protocol === 'ftp' });
  }

  private saved(name: string): SavedDestinationConfig {
    const d = this.byName.get(name);
    if (!d) throw new WorkflowError('NOT_ALLOWED', `There is no saved destination named ${JSON.stringify(name)}.`);
    return d;
  }

  private secret(d: Extract<SavedDestinationConfig, { host: string }>): string {
    const variable = d.passwordEnv ?? d.secretRef?.slice('env:'.length);
    const value = variable ? (this.options.env ?? process.env)[variable] : undefined;
    if (!value) throw new ConfigError(`The password of the destination "${d.name}" is not set (${variable ?? 'no passwordEnv'}).`, `Set ${variable ?? 'passwordEnv'} in the environment and restart.`);
    return value;
  }
}

function policyOf(check: HostKeyCheck): HostKeyPolicy {
  if (check.kind === 'pinned') return { fingerprint: check.fingerprint };
  return {
    acceptUnknown: (fingerprint) => {
      check.onUnknown(fingerprint);
      return false;
    },
  };
}
