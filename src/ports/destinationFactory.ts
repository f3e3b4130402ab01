import type { DestinationSpec } from '../domain/destinationSpec';
import type { Destination } from './destination';
import type { SecretStore } from './secretStore';

/** A host key an SFTP server presented: what a person confirms, and what the host key store keys on. */
export interface PresentedHostKey {
  /** "SHA256:…", as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The type named in the key ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" …); undefined if it names none. */
  keyType?: string;
}

export interface OpenDestinationOptions {
  /** Resolves the spec's secret references, at each connect (a rotated secret applies at once). */
  secrets: SecretStore;
  /**
   * SFTP without a trusted key (`spec.hostKey` unset): the server's key, with its type, is
   * reported here and the login refused with HOST_KEY_UNKNOWN before any credential is sent, so a
   * person can confirm it and the confirmation is stored for that type (HostKeyStore).
   * Without this callback such a spec is refused when opened.
   */
  onUnknownHostKey?: (key: PresentedHostKey) => void;
}

/**
 * Turns a DestinationSpec into a Destination: the one way the bot and the CLI reach a server.
 * `open` checks the spec and connects nothing; each `connect` resolves the secrets and opens a
 * session. Throws ConfigError (INVALID_CONFIG) for a spec that can never connect.
 */
export interface DestinationFactory {
  open(spec: DestinationSpec, options: OpenDestinationOptions): Destination;
}
