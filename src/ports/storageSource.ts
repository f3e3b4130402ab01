import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../domain/objectInfo';

/** A bucket (S3), a container (Azure Blob) or a top-level folder (local). */
export interface ContainerInfo {
  name: string;
  createdAt?: Date;
}

export type { ObjectInfo } from '../domain/objectInfo';

export interface ListOptions {
  /** Only keys that start with this. Folders are the next '/'-delimited level below it. */
  prefix?: string;
  /** Page size; the adapter may return fewer. Default 100. */
  pageSize?: number;
  /** The `nextToken` of the previous page. */
  token?: string;
}

export interface ListPage {
  /** Sub-folder prefixes directly below `prefix`, each ending in '/'. */
  folders: string[];
  objects: ObjectInfo[];
  /** Present when there is another page. */
  nextToken?: string;
}

/** A byte range [start, end): `end` is exclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Read-only access to cloud or local storage. An implementation has no method, import or
 * credential use that writes: a session handed to the bot can list and read, nothing else.
 *
 * Every method throws SourceError: NOT_FOUND (container or key missing), ACCESS_DENIED,
 * SOURCE_CHANGED (a pinned version is gone or different), THROTTLED / SERVER_ERROR / NETWORK
 * (retryable), CANCELLED when `signal` aborts.
 */
export interface StorageSource {
  /** Scheme shown in URLs and logs: 's3', 'azblob', 'file'. */
  readonly scheme: string;
  /**
   * How many ranged reads in parallel pay off for this source (1 for a local disk, several for
   * HTTP object stores where one connection does not fill the pipe).
   */
  readonly parallelReads: number;

  listContainers(signal?: AbortSignal): Promise<ContainerInfo[]>;
  list(container: string, options?: ListOptions, signal?: AbortSignal): Promise<ListPage>;
  stat(container: string, key: string, signal?: AbortSignal): Promise<ObjectInfo>;
  /** A stream of exactly the bytes in `range` of the version `object` pins. */
  read(container: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable>;
}
