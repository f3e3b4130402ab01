import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { SourceError } from '../../domain/errors';
import type { PortableSource, SourceRecipe } from '../../ports/portableSource';
import type { ByteRange, ContainerInfo, ListOptions, ListPage, ObjectInfo, StorageSource } from '../../ports/storageSource';
import { localFsError } from './localErrors';
import { checkRange } from './rangeGuard';
import { emptyStream, relayStream } from './relayStream';
import { sourceCancelled, sourceChanged } from './sourceErrors';
import { decodePageToken, encodePageToken } from './pageToken';

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/**
 * A folder on this machine as a storage source: each sub-folder of `root` is a container, and keys
 * are '/'-separated paths below it. The embedded default and the fast path in tests.
 *
 * - Read-only: nothing here opens a file for writing.
 * - Paths are confined to `root`: a '..', '.', empty or NUL segment is INVALID_PATH, and a key
 *   whose real path (after symlinks) leaves `root` is NOT_FOUND.
 * - `etag` is `${size}-${mtimeMs}`. `read` checks it on the opened file before the first byte
 *   and again after the last, so a file replaced or rewritten while it is read fails with
 *   SOURCE_CHANGED rather than mixing versions. (A rewrite that keeps the size within one tick of
 *   the file-system clock is invisible to this check; object stores have no such blind spot.)
 * - Listing is sorted by name, folders included (a folder sorts as `name/`), and pages with an
 *   opaque token holding the last name returned, so a page boundary stays put as files come and go.
 */
export class LocalSource implements PortableSource {
  readonly scheme = 'file';
  /** One disk read at a time: parallel reads of one file only make a disk seek. */
  readonly parallelReads = 1;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  recipe(): SourceRecipe {
    return { kind: 'file', root: this.root };
  }

  async listContainers(signal?: AbortSignal): Promise<ContainerInfo[]> {
    throwIfAborted(signal, `the folders of ${this.root}`);
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      const containers: ContainerInfo[] = [];
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const info = await stat(this.path(entry.name)).catch(() => undefined);
        if (info) containers.push({ name: entry.name, createdAt: info.birthtimeMs > 0 ? info.birthtime : undefined });
      }
      return containers.sort((a, b) => compare(a.name, b.name));
    } catch (e) {
      throw localFsError(e, this.root);
    }
  }

  async list(container: string, options: ListOptions = {}, signal?: AbortSignal): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    const cut = prefix.lastIndexOf('/') + 1;
    const folder = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    const where = this.describe(container, prefix);
    throwIfAborted(signal, where);
    let dir = await this.containedPath(container, [], where);
    if (folder !== '') {
      try {
        dir = await this.containedPath(container, folder.slice(0, -1).split('/'), where);
      } catch (e) {
        // A prefix with nothing under it is an empty listing, as on object stores.
        if ((e as SourceError).code === 'NOT_FOUND') return { folders: [], objects: [] };
        throw e;
      }
    }
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE)));
    const after = options.token === undefined ? undefined : decodePageToken(options.token, where);

    let names: { sortKey: string; name: string; isFolder: boolean }[];
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      names = [];
      for (const entry of entries) {
        // A name no key could reach (control characters) is not offered.
        if (!entry.name.startsWith(namePrefix) || !isPlainSegment(entry.name)) continue;
        let isFolder = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          // Listed as what it points to, and only when that stays under the root (as reads require).
          const linked = resolve(dir, entry.name);
          const target = (await this.isUnderRoot(linked)) ? await stat(linked).catch(() => undefined) : undefined;
          isFolder = target?.isDirectory() ?? false;
          isFile = target?.isFile() ?? false;
        }
        if (!isFolder && !isFile) continue;
        const sortKey = isFolder ? `${entry.name}/` : entry.name;
        if (after !== undefined && compare(sortKey, after) <= 0) continue;
        names.push({ sortKey, name: entry.name, isFolder });
      }
    } catch (e) {
      const error = localFsError(e, where);
      if (folder !== '' && error.code === 'NOT_FOUND') return { folders: [], objects: [] };
      throw error;
    }
    names.sort((a, b) => compare(a.sortKey, b.sortKey));
    const page = names.slice(0, pageSize);
    const folders: string[] = [];
    const objects: ObjectInfo[] = [];
    for (const entry of page) {
      throwIfAborted(signal, where);
      if (entry.isFolder) {
        folders.push(`${folder}${entry.name}/`);
        continue;
      }
      const info = await stat(resolve(dir, entry.name)).catch(() => undefined);
      // Gone since readdir: leave it out, as a listing a moment later would.
      if (info) objects.push(objectInfo(`${folder}${entry.name}`, info));
    }
    const last = page.at(-1);
    return { folders, objects, ...(names.length > pageSize && last ? { nextToken: encodePageToken(last.sortKey) } : {}) };
  }

  async stat(container: string, key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    const where = this.describe(container, key);
    throwIfAborted(signal, where);
    if (key === '' || key.endsWith('/')) {
      throw new SourceError('NOT_FOUND', `${where} is a folder, not a file.`, { hint: 'Pick a file inside it, or list it as a prefix.' });
    }
    const path = await this.containedPath(container, key.split('/'), where);
    let info: Stats;
    try {
      info = await stat(path);
    } catch (e) {
      throw localFsError(e, where);
    }
    if (!info.isFile()) {
      throw new SourceError('NOT_FOUND', `${where} is a folder, not a file.`, { hint: 'Pick a file inside it, or list it as a prefix.' });
    }
    return objectInfo(key, info);
  }

  async read(container: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const where = this.describe(container, object.key);
    throwIfAborted(signal, where);
    checkRange(where, object, range);
    let handle: FileHandle;
    try {
      handle = await open(await this.containedPath(container, object.key.split('/'), where), 'r');
    } catch (e) {
      const error = e instanceof SourceError ? e : localFsError(e, where);
      throw error.code === 'NOT_FOUND' ? sourceChanged(where, 'it is gone') : error;
    }
    let handedOver = false;
    try {
      const check = async (): Promise<void> => {
        const now = await handle.stat();
        if (!sameVersion(object, now)) throw sourceChanged(where, `it now has ${now.size} bytes, modified ${now.mtime.toISOString()}`);
      };
      await check();
      if (range.end === range.start) return emptyStream();
      // The handle stays open until the relay closes: the last check stats it after the last byte.
      const body = handle.createReadStream({ start: range.start, end: range.end - 1, autoClose: false, highWaterMark: 256 * 1024 });
      const out = relayStream(body, (e) => localFsError(e, where), { where, signal, finish: check });
      out.once('close', () => void handle.close().catch(() => undefined));
      handedOver = true;
      return out;
    } catch (e) {
      throw e instanceof SourceError ? e : localFsError(e, where);
    } finally {
      if (!handedOver) await handle.close().catch(() => undefined);
    }
  }

  private describe(container: string, key: string): string {
    return `file://${this.root === sep ? '' : this.root}/${container}/${key}`;
  }

  private path(...segments: string[]): string {
    return resolve(this.root, ...segments);
  }

  /**
   * The absolute path of `container/segments`, refused when a segment could climb out of the
   * container, and when its real path (symlinks followed) leaves the root.
   */
  private async containedPath(container: string, segments: string[], where: string): Promise<string> {
    if (!isPlainSegment(container)) {
      throw new SourceError('INVALID_PATH', `"${container}" is not a folder name under ${this.root}.`, {
        hint: 'Name a folder directly under the root, without "/", "..", or control characters.',
      });
    }
    if (!segments.every(isPlainSegment)) {
      throw new SourceError('INVALID_PATH', `${where} is not a valid key.`, {
        hint: 'Use a relative path with "/" between names, without "..", "." or empty parts.',
      });
    }
    const path = this.path(container, ...segments);
    let inside: boolean;
    try {
      inside = await this.isUnderRoot(path, true);
    } catch (e) {
      throw localFsError(e, where);
    }
    if (!inside) {
      throw new SourceError('NOT_FOUND', `${where} was not found under ${this.root}.`, {
        hint: 'It links outside the shared folder; copy the file into the folder instead.',
      });
    }
    return path;
  }

  /** Whether `path`, symlinks followed, is the root or below it. A missing path is false, or throws when `strict`. */
  private async isUnderRoot(path: string, strict = false): Promise<boolean> {
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(path), realpath(this.root)]);
    } catch (e) {
      if (strict) throw e;
      return false;
    }
    return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
  }
}

function objectInfo(key: string, info: Stats): ObjectInfo {
  return { key, size: info.size, lastModified: info.mtime, etag: `${info.size}-${info.mtimeMs}` };
}

function sameVersion(object: ObjectInfo, now: Stats): boolean {
  if (now.size !== object.size) return false;
  return object.etag === undefined || object.etag === `${now.size}-${now.mtimeMs}`;
}

/** A single path name: not empty, not '.' or '..', no separator (either on Windows), no control character. */
function isPlainSegment(segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..' || segment.includes('/')) return false;
  if (sep === '\\' && segment.includes('\\')) return false;
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(segment);
}

function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) throw sourceCancelled(where);
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
