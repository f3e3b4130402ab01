import { DestinationError } from './errors';

/** What to do when the final name is taken: said the same way by every destination and the engine. */
export const ALREADY_EXISTS_HINT = 'Choose the replace or rename overwrite policy, or another file name.';

/** `path` already stands on the destination `where` (a label, or "the destination"). */
export function alreadyExists(path: string, where = 'the destination'): DestinationError {
  return new DestinationError('ALREADY_EXISTS', `${path} already exists on ${where}.`, { hint: ALREADY_EXISTS_HINT });
}
