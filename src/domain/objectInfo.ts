/**
 * One object as the source saw it. `etag`/`versionId` pin the exact version: a ranged read of an
 * ObjectInfo must return bytes of that version or fail with SOURCE_CHANGED, never mix versions.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
  etag?: string;
  versionId?: string;
  /** Full-object checksums the source stores, lower-case hex. Absent when the source has none. */
  checksums?: { sha256?: string; md5?: string };
}
