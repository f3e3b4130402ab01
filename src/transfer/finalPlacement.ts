import { FerryError } from '../domain/errors';
import type { DestinationSession } from '../ports/destination';
import type { OverwritePolicy } from './types';
import { withSuffix } from './remotePath';

/** How many "name (n).ext" candidates the rename policy tries before giving up. */
const MAX_SUFFIX = 99;

/**
 * Renames the verified temporary file to its final name under the overwrite policy and returns
 * the name it got. 'replace' replaces atomically where the server can; 'fail' refuses a name that
 * appeared during the upload; 'rename' takes the first free "name (n).ext".
 */
export async function placeFinalFile(
  session: DestinationSession,
  temporaryPath: string,
  finalPath: string,
  policy: OverwritePolicy,
  signal?: AbortSignal,
): Promise<string> {
  if (policy !== 'rename') {
    await session.rename(temporaryPath, finalPath, { replace: policy === 'replace', signal });
    return finalPath;
  }
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const candidate = n === 0 ? finalPath : withSuffix(finalPath, n);
    try {
      await session.rename(temporaryPath, candidate, { replace: false, signal });
      return candidate;
    } catch (e) {
      if (!(e instanceof FerryError && e.code === 'ALREADY_EXISTS')) throw e;
    }
  }
  throw new FerryError('destination', 'ALREADY_EXISTS', `${finalPath} and ${MAX_SUFFIX} numbered variants already exist.`, {
    hint: 'Clean up the destination folder or choose another name.',
  });
}
