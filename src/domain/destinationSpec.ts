import type { SecretRef } from './secretRef';

/**
 * How an SFTP server's host key is trusted, as data: a pinned SHA256 fingerprint (saved
 * destinations, keys a user confirmed) or a known_hosts file (the CLI). A connection with neither
 * can only probe: the caller learns the key and the login is refused before any credential is sent.
 */
export type HostKeyTrust = { fingerprint: string } | { knownHostsFile: string };

interface ServerSpec {
  host: string;
  port: number;
  username: string;
  /** Absolute folder files go to (joined with the file name for the bot; the CLI's parent path). */
  folder: string;
  /** The password, by reference; resolved when a connection opens. */
  passwordRef?: SecretRef;
}

export interface SftpSpec extends ServerSpec {
  protocol: 'sftp';
  hostKey?: HostKeyTrust;
  /** An OpenSSH or PEM private key, by reference (`file:`, `env:`, `aws-sm:` …). */
  privateKeyRef?: SecretRef;
  /** The private key's passphrase, by reference. */
  passphraseRef?: SecretRef;
  /** Let FileFerry run `sha256sum` over SSH to compare the server's hash (needs a shell account). */
  allowRemoteHash?: boolean;
  /** SSH connections that write one large file at once (striping, for a distant server); 1 when absent. */
  connections?: number;
}

/** The striping connections a destination asks for, if any (SFTP only). */
export function stripingConnections(spec: DestinationSpec): number | undefined {
  return spec.protocol === 'sftp' ? spec.connections : undefined;
}

export interface FtpSpec extends ServerSpec {
  protocol: 'ftps' | 'ftp';
  /** A PEM file of extra CAs that sign the FTPS server's certificate (a private CA). */
  caFile?: string;
  /** Plain FTP sends the password in clear: only with the operator's or the user's explicit consent. */
  allowPlainFtp?: boolean;
}

export interface LocalSpec {
  protocol: 'local';
  /** The folder on this machine that stands for the server's `/`. */
  root: string;
  folder: string;
  /** Shown instead of the root path (a saved destination's name). */
  label?: string;
}

/**
 * Everything needed to open a destination, and nothing secret: the one shape the bot (saved and
 * ad-hoc destinations) and the CLI (URL and flags) both turn into a `Destination` through the
 * destination factory. Plain JSON, so a transfer job that holds it can be queued or stored.
 */
export type DestinationSpec = SftpSpec | FtpSpec | LocalSpec;

/** A safe description for cards, logs and audit: protocol, user, host and port, never a secret. */
export function destinationLabel(spec: DestinationSpec): string {
  if (spec.protocol === 'local') return spec.label ?? `file://${spec.root}`;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.protocol}://${encodeURIComponent(spec.username)}@${host}:${spec.port}`;
}

export const DEFAULT_PORTS = { sftp: 22, ftps: 21, ftp: 21 } as const;
