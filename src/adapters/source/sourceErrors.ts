import { SourceError } from '../../domain/errors';

/**
 * The SourceErrors every adapter throws alike, so the words and hints are the same whatever the
 * storage. `where` is the location as the user knows it (s3://…, azblob://…, file://…).
 */

/** The pinned version is gone or different: permanent, the user must pick the file again. */
export function sourceChanged(where: string, how: string, cause?: unknown): SourceError {
  return new SourceError('SOURCE_CHANGED', `${where} changed after it was chosen: ${how}.`, {
    hint: 'Pick the file again to send its current version.',
    retryable: false,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** What every source method throws once its `signal` has aborted. */
export function sourceCancelled(where: string): SourceError {
  return new SourceError('CANCELLED', `Reading ${where} was cancelled.`, { hint: 'Start it again when you are ready.' });
}
