import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TLSSocket } from 'node:tls';
import type { Client } from 'basic-ftp';
import { DestinationError } from '../../domain/errors';
import type { WriteOptions } from '../../ports/destination';
import { ftpReplyCode } from './ftpErrors';
import type { ControlKeepalive } from './ftpKeepalive';

/**
 * How long a partial file must keep the same SIZE before it is appended to, and how long a broken
 * upload waits before reporting. When a data connection breaks, the server's side of it goes on
 * writing what already reached it for a moment (measured on proftpd: up to several ms, longer
 * under load). APPE while that session still writes would interleave bytes; a resume offset read
 * too early would be stale.
 */
export const SETTLE_MS = 250;

export interface UploadContext {
  client: Client;
  keepalive: ControlKeepalive;
  label: string;
  /** Upper bound for waiting until a partial file stops growing. */
  idleTimeoutMs: number;
}

/**
 * One upload: STOR at offset 0, APPE above it. FTP acknowledges nothing per write, so
 * `onAcknowledged` is called once, after the server's "226" and a SIZE that shows every byte
 * landed: a data connection cut on plain FTP looks like a normal end to the server, which then
 * reports success for a short file. Never sends SITE CHMOD or MFMT.
 *
 * Resume safety: APPE starts only once the partial file's SIZE equals `offset` and has stopped
 * changing. It cannot rule out a stalled old server session that comes back to life later; a
 * server with upload locks (vsftpd's default lock_upload_files) makes that impossible, and the
 * engine's final size and hash checks catch what slips through.
 */
export async function uploadToFtp(ctx: UploadContext, path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> {
  const { client, keepalive, label } = ctx;
  const offset = options.offset;
  if (offset > 0) {
    const held = await settledSize(ctx, path);
    if (held !== offset) {
      throw new DestinationError('SERVER_ERROR', `${label}: cannot resume ${path} at byte ${offset}: the server holds ${held} bytes.`, {
        hint: 'The partial file changed since it was checked; the transfer retries from what the server holds.',
      });
    }
  }
  let sent = 0;
  const ftp = client.ftp;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of data) {
      if (chunk.length === 0) continue;
      sent += chunk.length;
      yield chunk;
    }
    // Every byte is handed over: the "226" is due now. NOOPs would only reset the control
    // connection's idle timer and hide a server that never answers.
    keepalive.stop();
    await tlsHandshakeDone(ftp.dataSocket);
  }
  const source = Readable.from(counted(), { objectMode: false, highWaterMark: 256 * 1024 });
  keepalive.start();
  try {
    if (offset === 0) await client.uploadFrom(source, path);
    else await client.appendFrom(source, path);
  } catch (e) {
    // Drop the connection now, so the server's session stops, and give it a moment to finish
    // writing what reached it: the engine's next SIZE then sees the final partial size.
    if (!options.signal?.aborted) {
      client.close();
      await sleep(SETTLE_MS);
    }
    throw e;
  } finally {
    keepalive.stop();
    source.destroy();
  }
  const held = await client.size(path);
  keepalive.settle();
  if (held < offset + sent) {
    throw new DestinationError('NETWORK', `${label}: the upload to ${path} ended early: the server holds ${held} bytes, ${offset + sent} were sent.`, {
      hint: 'The data connection was cut; the transfer retries and resumes from what the server holds.',
    });
  }
  if (held > offset + sent) {
    throw new DestinationError('SIZE_MISMATCH', `${label}: ${path} holds ${held} bytes after the upload, more than the ${offset + sent} written.`, {
      hint: 'Something else writes to the same file; make sure no other transfer targets it.',
    });
  }
  options.onAcknowledged?.(sent);
}

/** SIZE of a partial file once two readings SETTLE_MS apart agree. */
async function settledSize(ctx: UploadContext, path: string): Promise<number> {
  const size = (): Promise<number> =>
    ctx.client.size(path).catch((e: unknown) => {
      if (ftpReplyCode(e) !== 550) throw e;
      throw new DestinationError('NOT_FOUND', `${ctx.label}: cannot resume ${path}: the partial file is not on the server.`, {
        hint: 'Start the upload again from the beginning.',
        cause: e,
      });
    });
  let previous = await size();
  for (let waited = 0; waited < ctx.idleTimeoutMs; waited += SETTLE_MS) {
    await sleep(SETTLE_MS);
    const now = await size();
    if (now === previous) return now;
    previous = now;
  }
  throw new DestinationError('SERVER_ERROR', `${ctx.label}: ${path} is still growing: an earlier connection is still writing it.`, {
    hint: 'The transfer retries once the server has finished with the broken connection.',
  });
}

/**
 * Resolves once a TLS data connection has finished its handshake (or closed).
 *
 * Why: basic-ftp starts piping an upload into a TLS data connection as soon as a cipher is
 * negotiated, which is before the handshake completes, and Node's TLSSocket ended before
 * 'secureConnect' sends FIN without the rest of the handshake or a close_notify (measured with a
 * recording proxy: a 0-byte FTPS upload then fails at vsftpd with "426 Failure reading network
 * stream", 100 times out of 100). With data the writes queue behind the handshake, so only the
 * end of the stream has to wait.
 */
async function tlsHandshakeDone(socket: Socket | TLSSocket | undefined): Promise<void> {
  if (!(socket instanceof TLSSocket) || socket.authorized || socket.destroyed) return;
  await new Promise<void>((resolve) => {
    socket.once('secureConnect', () => resolve());
    socket.once('close', () => resolve());
  });
}
