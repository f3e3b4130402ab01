/**
 * OpenPGP encryption for push rules with a recipient key: the plaintext goes in as a stream and
 * the encrypted message (binary OpenPGP, not armored) comes out as a stream, nothing on disk.
 * Throws ConfigError (INVALID_CONFIG) for a key that is not a usable public encryption key.
 */
export interface PgpEncryptor {
  /** Checks an armored public key once (at start-up); returns its fingerprint for logs and audit. */
  checkPublicKey(armoredKey: string): Promise<string>;
  encrypt(plaintext: AsyncIterable<Buffer>, armoredKey: string, options: { fileName: string }): AsyncIterable<Buffer>;
}
