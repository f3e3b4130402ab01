import { SourceError } from '../../domain/errors';
import type { ByteRange, ObjectInfo } from '../../ports/storageSource';

/**
 * Refuses a range outside the pinned object before any request: such a range is a caller bug, and
 * sending it would read as "the object changed" or as a server error instead.
 */
export function checkRange(where: string, object: ObjectInfo, range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > object.size) {
    throw new SourceError('INTERNAL', `Cannot read bytes [${start}, ${end}) of ${where}: the object has ${object.size} bytes.`, {
      hint: 'Report this with the request ID; the log has the detail.',
      retryable: false,
    });
  }
}

