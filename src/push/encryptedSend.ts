import { createHash } from 'node:crypto';
import { TransferError } from '../domain/errors';
import { alreadyExists } from '../domain/errorFactories';
import { canHashRemotely, type Destination } from '../ports/destination';
import type { PgpEncryptor } from '../ports/pgp';
import type { PushSend } from '../ports/pushEngine';
import type { StorageSource } from '../ports/storageSource';
import { placeFinalFile } from '../transfer/finalPlacement';
import { joinRemote, temporaryPathFor } from '../transfer/remotePath';
import type { OverwritePolicy } from '../transfer/types';

export interface EncryptedSendOptions {
  source: StorageSource;
  destination: Destination;
  overwrite: OverwritePolicy;
  encryptor: PgpEncryptor;
  publicKey: string;
  /** Stable per object, so a dead process's temporary file is found and replaced. */
  temporaryId: string;
}

export interface EncryptedSent {
  bytes: number;
  sha256: string;
  plaintextSha256: string;
  finalPath: string;
  verification: string;
}

/**
 * One PGP send: the pinned object is read once, hashed, encrypted in the stream and written under
 * a temporary name; the server's size must equal the ciphertext counted (and its SHA-256, where it
 * can tell, the ciphertext's hash) before the rename. OpenPGP encryption is randomised, so an
 * interrupted send cannot resume mid-file: it starts again from the first byte (the runner retries).
 */
export async function encryptedSend(job: PushSend, o: EncryptedSendOptions): Promise<EncryptedSent> {
  const finalPath = joinRemote(job.remoteFolder, `${job.remoteName}.pgp`);
  const temporaryPath = temporaryPathFor(finalPath, o.temporaryId);
  const { signal } = job;
  const session = await o.destination.connect(signal);
  let placed: string | undefined;
  try {
    await session.ensureDir(job.remoteFolder, signal);
    if (o.overwrite === 'fail' && (await session.stat(finalPath, signal))) throw alreadyExists(finalPath);
    const plain = createHash('sha256');
    const cipher = createHash('sha256');
    let plainBytes = 0;
    let cipherBytes = 0;
    const object = job.object;
    async function* plaintext(): AsyncGenerator<Buffer> {
      const stream = await o.source.read(object.container, object, { start: 0, end: object.size }, signal);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        plain.update(chunk);
        plainBytes += chunk.length;
        yield chunk;
      }
    }
    async function* ciphertext(): AsyncGenerator<Buffer> {
      for await (const chunk of o.encryptor.encrypt(plaintext(), o.publicKey, { fileName: job.remoteName })) {
        cipher.update(chunk);
        cipherBytes += chunk.length;
        yield chunk;
      }
    }
    await session.write(temporaryPath, ciphertext(), { offset: 0, signal });
    if (plainBytes !== object.size) {
      throw new TransferError('SIZE_MISMATCH', `Read ${plainBytes} bytes of ${object.key}, expected ${object.size}.`, { hint: 'The source object may have changed; it is sent again.' });
    }
    const sha256 = cipher.digest('hex');
    const remote = await session.stat(temporaryPath, signal);
    if (remote?.size !== cipherBytes) {
      throw new TransferError('SIZE_MISMATCH', `The server holds ${remote?.size ?? 0} bytes of ${temporaryPath}, expected ${cipherBytes}.`, { hint: 'The server may be out of space or truncating uploads; check it.' });
    }
    let level = 'size+sha256 of the ciphertext sent';
    if (canHashRemotely(session)) {
      const theirs = await session.remoteSha256(temporaryPath, signal);
      if (theirs !== undefined && theirs !== sha256) {
        throw new TransferError('CHECKSUM_MISMATCH', `The server's SHA-256 of ${temporaryPath} differs from the bytes sent.`, { hint: 'The upload was corrupted; nothing was kept. It is sent again.' });
      }
      if (theirs !== undefined) level = 'size+server-hash of the ciphertext';
    }
    placed = await placeFinalFile(session, temporaryPath, finalPath, o.overwrite, signal);
    return { bytes: cipherBytes, sha256, plaintextSha256: plain.digest('hex'), finalPath: placed, verification: level };
  } finally {
    if (!placed) await session.remove(temporaryPath, AbortSignal.timeout(15_000)).catch(() => undefined);
    await session.close();
  }
}
