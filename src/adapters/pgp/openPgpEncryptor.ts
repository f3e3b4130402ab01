import { Readable } from 'node:stream';
import type * as OpenPgp from 'openpgp';
import { ConfigError } from '../../domain/errors';
import type { PgpEncryptor } from '../../ports/pgp';

/**
 * openpgp is loaded on first use: it costs about 60 ms of start-up and several MiB, and only push
 * rules with `pgp` need it, so `fileferry copy`, `ls` and the bot without such rules never pay.
 */
let loaded: typeof OpenPgp | undefined;
function openpgpLib(): typeof OpenPgp {
  loaded ??= require('openpgp') as typeof OpenPgp;
  return loaded;
}

/**
 * PgpEncryptor on openpgp (v6): the recipient's key is read once per message, the plaintext is
 * streamed through as a Web stream and the binary message streams out chunk by chunk, so memory
 * stays bounded whatever the size.
 */
export class OpenPgpEncryptor implements PgpEncryptor {
  async checkPublicKey(armoredKey: string): Promise<string> {
    const key = await readKey(armoredKey);
    try {
      await key.getEncryptionKey();
    } catch (e) {
      throw new ConfigError(`The PGP key ${key.getFingerprint()} cannot encrypt (${(e as Error).message}).`, 'Ask the recipient for a public key with a valid encryption subkey.');
    }
    return key.getFingerprint();
  }

  async *encrypt(plaintext: AsyncIterable<Buffer>, armoredKey: string, options: { fileName: string }): AsyncIterable<Buffer> {
    const key = await readKey(armoredKey);
    const input = Readable.toWeb(Readable.from(plaintext)) as unknown as ReadableStream<Uint8Array>;
    const openpgp = openpgpLib();
    const message = await openpgp.createMessage({ binary: input, filename: options.fileName, format: 'binary' });
    const encrypted = (await openpgp.encrypt({ message, encryptionKeys: key, format: 'binary' })) as unknown as ReadableStream<Uint8Array>;
    const reader = encrypted.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    } finally {
      reader.releaseLock();
    }
  }
}

async function readKey(armoredKey: string): Promise<OpenPgp.PublicKey> {
  try {
    const key = await openpgpLib().readKey({ armoredKey });
    if (key.isPrivate()) throw new ConfigError('The PGP key file holds a private key.', 'Give the recipient\'s public key only; a private key must never be in FileFerry\'s configuration.');
    return key as OpenPgp.PublicKey;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`The PGP public key cannot be read (${(e as Error).message}).`, 'Give an armored OpenPGP public key (-----BEGIN PGP PUBLIC KEY BLOCK-----).');
  }
}
