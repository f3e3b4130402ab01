import { SourceError } from '../domain/errors';
import { isPortable, type PortableSource } from '../ports/portableSource';
import type { ByteRange, ObjectInfo, StorageSource } from '../ports/storageSource';

/**
 * Narrows a signed-in source to one object. After auto-logout the running transfer keeps only
 * this: it can stat and read `container/object.key` and nothing else (no listing, no other key),
 * so a wiped session leaves no browsing ability behind. A portable source stays portable (a
 * transfer's worker thread opens it from its recipe and narrows it the same way).
 */
export function singleObjectSource(inner: StorageSource, container: string, object: ObjectInfo): StorageSource {
  const refuse = (what: string): never => {
    throw new SourceError('ACCESS_DENIED', `This transfer may only read ${container}/${object.key}, not ${what}.`, {
      hint: 'Start a new request to read another object.',
    });
  };
  const check = (c: string, key: string): void => {
    if (c !== container || key !== object.key) refuse(`${c}/${key}`);
  };
  const narrowed: StorageSource & Partial<PortableSource> = {
    scheme: inner.scheme,
    parallelReads: inner.parallelReads,
    listContainers: async () => refuse('the list of containers'),
    list: async (c: string) => refuse(`a listing of ${c}`),
    stat: async (c: string, key: string, signal?: AbortSignal) => {
      check(c, key);
      return inner.stat(c, key, signal);
    },
    read: async (c: string, o: ObjectInfo, range: ByteRange, signal?: AbortSignal) => {
      check(c, o.key);
      return inner.read(c, o, range, signal);
    },
  };
  if (isPortable(inner)) {
    narrowed.recipe = () => inner.recipe();
    if (inner.lend) narrowed.lend = (request) => inner.lend!(request);
  }
  return narrowed;
}
