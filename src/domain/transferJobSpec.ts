import type { DestinationSpec } from './destinationSpec';
import type { ObjectInfo } from './objectInfo';
import type { OverwritePolicy } from './transferTerms';

/** ObjectInfo as plain JSON (dates as ISO strings): the exact version a job must send. */
export interface PinnedObject {
  key: string;
  size: number;
  lastModified?: string;
  etag?: string;
  versionId?: string;
  checksums?: { sha256?: string; md5?: string };
}

/** Which object to read: the storage service, its container and the pinned version. */
export interface SourceRef {
  /** 's3', 'azblob' or 'file', as the source reports its scheme. */
  scheme: string;
  container: string;
  object: PinnedObject;
  /** The region or location the request named (for a process that must open the source itself). */
  region?: string;
}

/**
 * One transfer as data: what to read, where to write it, and references to the secrets it needs,
 * never a secret. It survives JSON (a queue, a store, another process); what a process must hold
 * in memory to run it (a signed-in reader, a password typed on a card) it holds beside the spec.
 */
export interface TransferJobSpec {
  requestId: string;
  source: SourceRef;
  destination: DestinationSpec;
  /** Absolute final path on the destination. */
  remotePath: string;
  overwrite: OverwritePolicy;
}

export function pinObject(o: ObjectInfo): PinnedObject {
  return {
    key: o.key,
    size: o.size,
    ...(o.lastModified ? { lastModified: o.lastModified.toISOString() } : {}),
    ...(o.etag !== undefined ? { etag: o.etag } : {}),
    ...(o.versionId !== undefined ? { versionId: o.versionId } : {}),
    ...(o.checksums ? { checksums: { ...o.checksums } } : {}),
  };
}

export function unpinObject(p: PinnedObject): ObjectInfo {
  return { ...p, lastModified: p.lastModified ? new Date(p.lastModified) : undefined };
}
