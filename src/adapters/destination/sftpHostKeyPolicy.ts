import { readFile } from 'node:fs/promises';
import { ConfigError, DestinationError } from '../../domain/errors';
import {
  algorithmsForKeyType,
  checkKnownHosts,
  fingerprintOf,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  normalizeFingerprint,
  parseKnownHosts,
} from './hostKeys';

/**
 * How an SFTP destination decides to trust a server's host key. There is deliberately no
 * "accept anything": an unverified key lets anyone on the path read the files and the password.
 * - `fingerprint`: the one key the server must present (`SHA256:…`, as `ssh-keygen -l` prints).
 * - `knownHostsFile`: an OpenSSH known_hosts file, read at every connect.
 * - `acceptUnknown`: asked with the fingerprint and key type of a key never seen by this
 *   destination (the bot shows both to a person). It should answer promptly: the handshake waits
 *   for it. Once accepted, the key is pinned for its type for the life of this destination, so a
 *   reconnect that meets another key of that type is refused as changed instead of asking again.
 *
 * Keys are held per key type, as OpenSSH does: a server presenting a key of a type not known for
 * it yet (it has several host keys, or was restarted with another kind) shows a *new* key
 * (HOST_KEY_UNKNOWN, asked where a person can answer), while another key of a known type is a
 * changed key (HOST_KEY_MISMATCH). A bare pinned fingerprint does not say its type, so with it
 * every other key is a changed one.
 */
export type HostKeyPolicy =
  | { fingerprint: string }
  | { knownHostsFile: string }
  | { acceptUnknown: (fingerprint: string, keyType: string | undefined) => boolean | Promise<boolean> };

/** What one connection attempt uses: the algorithms to prefer and the check itself. */
export interface HostKeyCheck {
  /** Host key algorithms to ask for first (those known_hosts holds for this host), if any. */
  preferredAlgorithms?: string[];
  /** Resolves when `blob` may be trusted; rejects with HOST_KEY_UNKNOWN or HOST_KEY_MISMATCH. */
  verify(blob: Buffer): Promise<void>;
}

const PIN_IT = `accept it, or pin it as the destination's host key fingerprint`;

export class HostKeyGuard {
  private readonly pinned?: string;
  /** Keys accepted through `acceptUnknown`, by key type ('' when the blob names none). */
  private readonly accepted = new Map<string, string>();

  constructor(private readonly policy: HostKeyPolicy, private readonly host: string, private readonly port: number) {
    if (policy && 'fingerprint' in policy) {
      this.pinned = normalizeFingerprint(policy.fingerprint);
      if (!this.pinned) {
        throw new ConfigError(
          `The pinned SFTP host key fingerprint for ${host}:${port} is not a SHA256 fingerprint.`,
          'Give it as "SHA256:" followed by 43 base64 characters, as `ssh-keygen -lf <host key>.pub` prints it.',
        );
      }
    } else if (!policy || !('knownHostsFile' in policy || 'acceptUnknown' in policy)) {
      throw new ConfigError(
        `No host key policy is set for the SFTP server ${host}:${port}.`,
        'Pin its fingerprint, name a known_hosts file, or give an acceptUnknown callback that asks a person.',
      );
    }
  }

  /** Prepares one connection attempt (reads the known_hosts file now, so edits apply at once). */
  async begin(): Promise<HostKeyCheck> {
    const policy = this.policy;
    if ('fingerprint' in policy) return { verify: async (blob) => this.expect(blob, this.pinned!, 'the pinned fingerprint') };
    if ('knownHostsFile' in policy) {
      const file = policy.knownHostsFile;
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return '';
        throw new ConfigError(`The known_hosts file ${file} cannot be read (${e.code ?? 'error'}).`, 'Check the path and its permissions.');
      });
      const entries = parseKnownHosts(text);
      const types = knownKeyTypes(entries, this.host, this.port);
      return {
        ...(types.length > 0 ? { preferredAlgorithms: types.flatMap(algorithmsForKeyType) } : {}),
        verify: async (blob) => {
          const verdict = checkKnownHosts(entries, this.host, this.port, blob);
          if (verdict.status === 'known') return;
          const fingerprint = fingerprintOf(blob);
          if (verdict.status === 'unknown') {
            throw this.unknown(blob, `It is not in ${file}.`, `add this line to ${file}: ${knownHostsLine(this.host, this.port, blob)}`);
          }
          if (verdict.status === 'revoked') {
            throw this.mismatch(fingerprint, blob, `${file} line ${verdict.line} marks this key as revoked`);
          }
          const keyType = presentedKeyType(blob);
          if (!verdict.expected.some((x) => x.keyType === keyType)) {
            // Only keys of other types are listed: this is a new key, as OpenSSH treats it.
            const listed = [...new Set(verdict.expected.map((x) => x.keyType))].join(', ');
            throw this.unknown(blob, `${file} lists only ${listed} keys for it.`, `add this line to ${file}: ${knownHostsLine(this.host, this.port, blob)}`);
          }
          const expected = verdict.expected.map((x) => `${x.fingerprint} (${x.keyType}, line ${x.line})`).join(', ');
          throw this.mismatch(fingerprint, blob, `${file} expects ${expected}`);
        },
      };
    }
    const ask = policy.acceptUnknown;
    return {
      verify: async (blob) => {
        const keyType = presentedKeyType(blob);
        const known = this.accepted.get(keyType ?? '');
        if (known) return this.expect(blob, known, `the ${keyType ?? 'untyped'} key accepted before`);
        const fingerprint = fingerprintOf(blob);
        let yes: boolean;
        try {
          yes = (await ask(fingerprint, keyType)) === true;
        } catch (e) {
          throw this.unknown(blob, 'Asking to accept it failed.', PIN_IT, e);
        }
        if (!yes) throw this.unknown(blob, 'It was not accepted.', PIN_IT);
        this.accepted.set(keyType ?? '', fingerprint);
      },
    };
  }

  private expect(blob: Buffer, expected: string, what: string): void {
    const fingerprint = fingerprintOf(blob);
    if (fingerprint !== expected) throw this.mismatch(fingerprint, blob, `${what} is ${expected}`);
  }

  private unknown(blob: Buffer, why: string, how: string, cause?: unknown): DestinationError {
    const fingerprint = fingerprintOf(blob);
    return new DestinationError(
      'HOST_KEY_UNKNOWN',
      `The SFTP server ${this.host}:${this.port} presented a host key FileFerry does not know: ${fingerprint} (${presentedKeyType(blob) ?? 'unknown type'}). ${why} Nothing was sent to it.`,
      {
        hint: `Ask the server's administrator to confirm ${fingerprint} (ssh-keygen -lf on the server's host key); if it matches, ${how}.`,
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }

  private mismatch(fingerprint: string, blob: Buffer, expectation: string): DestinationError {
    return new DestinationError(
      'HOST_KEY_MISMATCH',
      `The host key of the SFTP server ${this.host}:${this.port} has changed: it presented ${fingerprint} (${presentedKeyType(blob) ?? 'unknown type'}), but ${expectation}. Nothing was sent to it.`,
      {
        hint: `Do not connect until the server's administrator confirms the new key (a changed key can mean someone is intercepting the connection); then pin ${fingerprint} in place of the old one.`,
      },
    );
  }
}

/** Key type names as SSH defines them (RFC 4250 4.6.1); anything else is not shown or stored. */
const KEY_TYPE = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,63}$/;

/**
 * The type of the key a server presented ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa" …),
 * read from the blob's first string (ssh2's hostVerifier gives the raw blob), or undefined when
 * it names none that is well formed: it reaches a card, a log line and the host key store.
 */
export function presentedKeyType(blob: Buffer): string | undefined {
  const type = keyTypeOf(blob);
  return type !== undefined && KEY_TYPE.test(type) ? type : undefined;
}
