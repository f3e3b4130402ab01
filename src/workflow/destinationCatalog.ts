import type { Destination } from '../ports/destination';
import type { DestinationSpec } from '../domain/requestRecord';

/**
 * How the workflow asks to verify an SFTP server's host key:
 * - 'pinned': only this key is accepted (saved destinations, confirmed ad-hoc ones);
 * - 'probe': the key is unknown; `onUnknown` receives its fingerprint and the connection is
 *   refused (HOST_KEY_UNKNOWN) before any credential is sent, so the user can confirm it.
 */
export type HostKeyCheck = { kind: 'pinned'; fingerprint: string } | { kind: 'probe'; onUnknown: (fingerprint: string) => void };

export interface DestinationDescription {
  /** Safe for cards and logs: protocol, user, host, port or folder. */
  label: string;
  protocol: 'local' | 'sftp' | 'ftps' | 'ftp';
  remoteFolder: string;
  /** Saved SFTP destinations: the pinned key from config. */
  pinnedFingerprint?: string;
}

/**
 * The destinations the workflow may open, built by the composition root from config and the
 * concrete adapters (the workflow imports none). Saved destinations take their credentials from
 * the secret store; ad-hoc ones take the password the user typed.
 */
export interface DestinationCatalog {
  savedNames(): string[];
  /** Throws WorkflowError NOT_ALLOWED for an unknown saved name. */
  describe(spec: DestinationSpec): DestinationDescription;
  /** A destination ready to connect. `hostKey` applies to ad-hoc SFTP only. */
  open(spec: DestinationSpec, options: { password?: string; hostKey?: HostKeyCheck }): Destination;
}
