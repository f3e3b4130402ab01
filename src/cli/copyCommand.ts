import { FerryError, PathError } from '../domain/errors';
import { hasLoginFolder } from '../ports/destination';
import { runTransfer } from '../transfer/engine';
import { basename, checkRemotePath, joinRemote } from '../transfer/remotePath';
import type { OverwritePolicy, TransferEvent, TransferResult } from '../transfer/types';
import { buildSecrets, destinationFactory } from '../adapters/registry';
import { withHeldSecrets } from '../workflow/heldSecrets';
import { destinationEndpoint, openSource, type EndpointOptions } from './endpoints';
import { parseLocation } from './locationUrl';
import { progressLine } from './progressLine';

export interface CopyOptions extends EndpointOptions {
  json: boolean;
  progress: boolean;
  retries: number;
  /** SSH connections that write the file at once (SFTP); the engine's default when absent. */
  connections?: number;
  overwrite: OverwritePolicy;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  signal?: AbortSignal;
}

/** The one object `--json` prints when a copy ends, success or not. */
export interface CopyReport {
  status: 'completed' | 'failed';
  bytes: number;
  sha256: string;
  seconds: number;
  attempts: number;
  resumedFromBytes: number[];
  verification: string;
  finalPath?: string;
  error?: { code: string; message: string; hint?: string };
}

/** `fileferry copy SRC DST`: returns the exit code (0 only on success). */
export async function copyCommand(src: string, dst: string, options: CopyOptions): Promise<number> {
  const started = performance.now();
  // Counted from the engine's events so that a failed copy reports them too.
  const seen = { attempts: 0, resumedFromBytes: [] as number[] };
  let report: CopyReport;
  try {
    const result = await copy(src, dst, options, seen);
    report = { ...result, status: 'completed' };
  } catch (e) {
    const error = e instanceof FerryError ? e : new FerryError('transfer', 'INTERNAL', (e as Error).message);
    report = {
      status: 'failed',
      bytes: 0,
      sha256: '',
      seconds: (performance.now() - started) / 1000,
      attempts: seen.attempts,
      resumedFromBytes: seen.resumedFromBytes,
      verification: 'none',
      error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
    };
  }
  if (options.json) {
    options.out.write(JSON.stringify(report) + '\n');
  } else if (report.status === 'completed') {
    options.out.write(
      `Copied ${report.bytes} bytes to ${report.finalPath} in ${report.seconds.toFixed(1)} s` +
        ` (${report.attempts} attempt${report.attempts === 1 ? '' : 's'}); sha256 ${report.sha256}; verified: ${report.verification}\n`,
    );
  } else {
    options.err.write(`fileferry: ${report.error!.code}: ${report.error!.message}\n${report.error!.hint ? `  ${report.error!.hint}\n` : ''}`);
  }
  return report.status === 'completed' ? 0 : 1;
}

async function copy(src: string, dst: string, options: CopyOptions, seen: { attempts: number; resumedFromBytes: number[] }): Promise<TransferResult> {
  const from = parseLocation(src);
  const to = parseLocation(dst);
  const { source, container, key } = openSource(from, options.env);
  if (!key || key.endsWith('/')) {
    throw new PathError(`The source ${src} names a folder, not an object.`, 'Give the full key of one object.');
  }
  const { spec, typed } = await destinationEndpoint(to, options);
  const destination = destinationFactory.open(spec, { secrets: withHeldSecrets(buildSecrets({ env: options.env }), typed) });
  // destinationEndpoint has refused the kinds without a path (s3, azblob).
  const toPath = 'path' in to ? to.path : '/';
  const isFolder = dst.endsWith('/');
  let remotePath = isFolder ? joinRemote(toPath, basename('/' + key)) : toPath;
  if ('fromHome' in to && to.fromHome) {
    const session = await destination.connect(options.signal);
    try {
      if (!hasLoginFolder(session)) throw new PathError(`${dst}: this server cannot tell its login folder.`, 'Write the absolute path instead of /~/.');
      remotePath = checkRemotePath(joinRemote(await session.loginFolder(options.signal), remotePath.slice(1)), 'server path');
    } finally {
      await session.close();
    }
  }
  const live = options.progress && options.err.isTTY === true;
  const onEvent = (event: TransferEvent): void => {
    if (event.type === 'attempt-failed') seen.attempts = event.attempt + 1;
    if (event.type === 'resumed') seen.resumedFromBytes.push(event.fromByte);
  };
  seen.attempts = 1;
  try {
    return await runTransfer({
      source,
      container,
      key,
      destination,
      remotePath,
      overwrite: options.overwrite,
      retries: options.retries,
      ...(options.connections !== undefined ? { connections: options.connections } : {}),
      signal: options.signal,
      onEvent,
      onProgress: live ? (p) => options.err.write(`\r\u001b[2K${progressLine(p)}`) : undefined,
    });
  } finally {
    if (live) options.err.write('\n');
  }
}
