import { DEFAULT_PORTS, destinationLabel, type DestinationSpec } from '../domain/destinationSpec';
import type { DestinationChoice } from '../domain/requestRecord';
import { savedLabel, type SavedDestination } from '../domain/savedDestination';
import { TYPED_PASSWORD } from '../domain/secretRef';
import { WorkflowError } from '../domain/workflowError';

/** What a card and the audit log say about a chosen destination. */
export interface DestinationDescription {
  /** Safe for cards and logs: protocol, user, host, port or folder. */
  label: string;
  /** Where files go on the server. */
  folder: string;
  /** Saved SFTP destinations: the key pinned in the configuration. */
  pinnedFingerprint?: string;
}

/**
 * Turns what the user chose on the destination card into the DestinationSpec a transfer opens: a
 * saved destination by name (from the configuration, with its secrets by reference), or an ad-hoc
 * one whose password was typed on the card (`typed:password`, held in memory only) and whose SFTP
 * host key is the one the user confirmed.
 */
export class DestinationChoices {
  private readonly byName = new Map<string, SavedDestination>();

  constructor(saved: readonly SavedDestination[]) {
    for (const d of saved) this.byName.set(d.name, d);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  describe(choice: DestinationChoice): DestinationDescription {
    if (choice.kind === 'adhoc') return { label: destinationLabel(this.spec(choice)), folder: choice.remoteFolder };
    const saved = this.saved(choice.name);
    const pin = saved.spec.protocol === 'sftp' && saved.spec.hostKey && 'fingerprint' in saved.spec.hostKey ? saved.spec.hostKey.fingerprint : undefined;
    return { label: savedLabel(saved), folder: saved.spec.folder, ...(pin ? { pinnedFingerprint: pin } : {}) };
  }

  /** The spec to open. For ad-hoc SFTP, `hostKeyFingerprint` is the confirmed key (absent: probe only). */
  spec(choice: DestinationChoice, hostKeyFingerprint?: string): DestinationSpec {
    if (choice.kind === 'saved') return this.saved(choice.name).spec;
    const server = { host: choice.host, port: choice.port ?? DEFAULT_PORTS[choice.protocol], username: choice.username, folder: choice.remoteFolder, passwordRef: TYPED_PASSWORD };
    if (choice.protocol === 'sftp') return { protocol: 'sftp', ...server, ...(hostKeyFingerprint ? { hostKey: { fingerprint: hostKeyFingerprint } } : {}) };
    // Plain FTP reaches here only with the policy on and the user's consent (destinationValidation).
    return { protocol: choice.protocol, ...server, allowPlainFtp: choice.protocol === 'ftp' };
  }

  private saved(name: string): SavedDestination {
    const d = this.byName.get(name);
    if (!d) throw new WorkflowError('NOT_ALLOWED', `There is no saved destination named ${JSON.stringify(name)}.`);
    return d;
  }
}
