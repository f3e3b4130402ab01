import { StoreError } from '../../domain/errors';

/**
 * The rules every DocumentStore adapter shares, so that a condition fails, and is worded, the same
 * on every backend.
 */

/** CONFLICT unless `ifVersion` is unset or is the current version (0 for an absent or expired document). */
export function checkVersion(collection: string, id: string, current: number, ifVersion: number | undefined): void {
  if (ifVersion === undefined || ifVersion === current) return;
  throw versionConflict(collection, id, current === 0 ? 'absent' : current, ifVersion);
}

/**
 * The CONFLICT of a condition that failed. `current` is the version found, 'absent', or
 * 'changed' when a backend only knows that its conditional write lost (another writer got there first).
 */
export function versionConflict(collection: string, id: string, current: number | 'absent' | 'changed', wanted: number): StoreError {
  const found =
    current === 'absent' ? `does not exist, so it is not at version ${wanted}`
    : current === 'changed' ? `changed under this write (it was expected at version ${wanted}): another writer got there first`
    : wanted === 0 ? `already exists (version ${current})`
    : `is at version ${current}, not ${wanted}: another writer changed it first`;
  return new StoreError('CONFLICT', `The document ${collection}/${id} ${found}.`, { hint: 'Read the document again and decide on its current version.' });
}

/** The JSON text of a body; a body JSON cannot hold (undefined, a function) is a bug, reported as such. */
export function bodyJson(body: unknown, collection: string, id: string): string {
  const json = JSON.stringify(body);
  if (json === undefined) {
    throw new StoreError('INTERNAL', `The body of the document ${collection}/${id} cannot be stored as JSON.`, {
      hint: 'This is a bug in FileFerry: a document body must be a JSON value.',
      retryable: false,
    });
  }
  return json;
}

/** A stored body that no longer parses: something edited it past FileFerry. */
export function unreadableDocument(collection: string, id: string, e: unknown): StoreError {
  return new StoreError('INTERNAL', `The stored document ${collection}/${id} is not JSON (${(e as Error)?.message ?? String(e)}).`, {
    hint: 'It was edited past FileFerry; delete it, or restore the store from a backup.',
    retryable: false,
  });
}

/** Byte-wise order of the UTF-8 encodings, the order `list` promises (JS `<` compares UTF-16 units instead). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Whether `id` passes a list's prefix and after filters. */
export function inListRange(id: string, prefix: string, after: string | undefined): boolean {
  return id.startsWith(prefix) && (after === undefined || byteOrder(id, after) > 0);
}
