import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { SecretsError } from '../../domain/errors';
import { describeRef, parseSecretRef, type SecretRef } from '../../domain/secretRef';
import type { SchemeSecretStore } from '../../ports/secretStore';
import { invalidRef, safeCause, secretCancelled } from './secretErrors';

/** Far above any password or key; a larger file is a wrong path (a log, a disk image), not a secret. */
const MAX_BYTES = 1024 * 1024;

/**
 * `file:/absolute/path`: a file's contents as UTF-8, read at each resolve so a rotated mounted
 * secret (Kubernetes, Docker) applies at once. Exactly one final line ending is removed, because
 * `echo secret > file` and most secret mounts end with one and it is never part of a password;
 * everything else is kept as is, so a private key's inner lines and a deliberate trailing space
 * survive. Relative paths are refused: they would depend on the working directory of whichever
 * process resolves the reference.
 */
export class FileSecrets implements SchemeSecretStore {
  readonly scheme = 'file';

  check(ref: SecretRef): void {
    this.path(ref);
  }

  async resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
    const path = this.path(ref);
    if (signal?.aborted) throw secretCancelled(ref);
    let text: string;
    try {
      // Non-blocking open: a FIFO or a device named by mistake must not hold a libuv thread
      // forever waiting for a writer; the stat below then refuses anything but a regular file.
      const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw fileError(ref, path, { code: 'EISDIR' });
        if (stat.size > MAX_BYTES) {
          throw new SecretsError('INVALID_CONFIG', `The secret ${describeRef(ref)} is a file of ${stat.size} bytes, too large to be a secret.`, {
            hint: 'Check the path: it should name the file that holds only the password or key.',
          });
        }
        text = await handle.readFile({ encoding: 'utf8', signal });
      } finally {
        await handle.close();
      }
    } catch (e) {
      if (e instanceof SecretsError) throw e;
      if (signal?.aborted) throw secretCancelled(ref);
      throw fileError(ref, path, e);
    }
    return text.replace(/\r?\n$/, '');
  }

  private path(ref: SecretRef): string {
    const { scheme, locator } = parseSecretRef(ref);
    if (scheme !== this.scheme) throw invalidRef(ref, `it is not a ${this.scheme}: reference`, 'Write it as file:/absolute/path.');
    if (!isAbsolute(locator)) {
      throw invalidRef(ref, 'the path is relative, so it would depend on the working directory', 'Write the absolute path, such as file:/run/secrets/acme-password.');
    }
    if (locator.includes('\u0000')) throw invalidRef(ref, 'the path contains a NUL character', 'Write the absolute path of the file.');
    return locator;
  }
}

/** An fs failure as the SecretsError the port promises; the path is in the reference, so it may be named. */
function fileError(ref: SecretRef, path: string, e: unknown): SecretsError {
  const code = (e as { code?: string })?.code ?? 'Error';
  const cause = safeCause(code);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new SecretsError('SECRET_NOT_FOUND', `The secret ${describeRef(ref)} names the file ${path}, which does not exist (${code}).`, {
      hint: 'Check the path and that the secret is mounted into this container or host.',
      cause,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SecretsError('ACCESS_DENIED', `FileFerry may not read the file ${path} named by the secret ${describeRef(ref)} (${code}).`, {
      hint: "Let FileFerry's user read it: check the file's owner and mode, or the secret mount's defaultMode.",
      cause,
    });
  }
  if (code === 'EISDIR') {
    return new SecretsError('INVALID_CONFIG', `The secret ${describeRef(ref)} names ${path}, which is not a regular file.`, {
      hint: 'Name the file inside the folder that holds the secret.',
      cause,
    });
  }
  return new SecretsError('INTERNAL', `Reading the file ${path} named by the secret ${describeRef(ref)} failed (${code}).`, {
    hint: 'The log has the detail; check the disk or mount that holds the file.',
    retryable: false,
    cause,
  });
}
