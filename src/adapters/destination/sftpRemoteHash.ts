import type { ClientChannel } from 'ssh2';
import { cancelled } from '../../domain/errors';
import type { RemoteHasher } from '../../ports/destination';
import { connectionClosed, mapSftpError } from './sftpErrors';
import { SftpSession } from './sftpSession';

/** Wraps `value` in single quotes for a POSIX shell; a quote inside becomes '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** sha256sum's line: the hash, then the name (a leading "\" marks an escaped name). */
const SHA256SUM_LINE = /^\\?([0-9a-f]{64}) [ *]/;

/**
 * An SFTP session that can also ask the server for a file's SHA-256 by running
 * `sha256sum -- '<path>'` over an SSH exec channel. Only built when the destination allows it:
 * it needs a shell account with coreutils, which SFTP-only (chrooted, ForceCommand) accounts lack.
 * Any answer other than a clean hash line with exit status 0 means "the server declines"
 * (undefined), never a failed transfer. No idle timeout applies: hashing a large file says
 * nothing until it is done; SSH keepalives still detect a dead connection.
 */
export class SftpHashingSession extends SftpSession implements RemoteHasher {
  async remoteSha256(path: string, signal?: AbortSignal): Promise<string | undefined> {
    if (this.connection.lost) throw this.connection.lost;
    if (signal?.aborted) throw cancelled(`Hashing ${path}`);
    const command = `sha256sum -- ${shellQuote(path)}`;
    return new Promise<string | undefined>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let output = '';
      let exitCode: number | undefined;
      let done = false;
      const finish = (error?: unknown, value?: string): void => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        this.connection.client.removeListener('close', onClose);
        if (error) reject(error);
        else resolve(value);
      };
      const onAbort = (): void => {
        try { channel?.close(); } catch { /* already closed */ }
        finish(cancelled(`Hashing ${path}`));
      };
      const onClose = (): void => finish(this.connection.lost ?? connectionClosed(this.options.label));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.connection.client.once('close', onClose);
      try {
        this.connection.client.exec(command, (error, stream) => {
          // An exec refused by the server (no shell, SFTP-only account) is a polite "no".
          if (error) return finish(undefined, undefined);
          channel = stream;
          stream.on('data', (data: Buffer) => { output = (output + data.toString('latin1')).slice(0, 4096); });
          stream.stderr.resume();
          stream.on('exit', (code: number | null) => { exitCode = code ?? undefined; });
          stream.on('close', () => {
            const match = exitCode === 0 ? SHA256SUM_LINE.exec(output) : null;
            finish(undefined, match ? match[1] : undefined);
          });
          // sha256sum reads the file, not stdin; closing stdin also ends a ForceCommand'ed sftp-server.
          stream.end();
        });
      } catch (e) {
        finish(this.connection.lost ?? mapSftpError(e, { operation: 'sha256sum', path, label: this.options.label }));
      }
    });
  }
}
