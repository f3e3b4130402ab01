/** What to do when the final name is already taken. */
export type OverwritePolicy = 'fail' | 'replace' | 'rename';

export const OVERWRITE_POLICIES: readonly OverwritePolicy[] = ['fail', 'replace', 'rename'];

/**
 * How far a finished transfer was verified. Size is always checked; the others are reached when
 * the source stores a full-object checksum and when the server can hash the file itself.
 */
export type VerificationLevel = 'size' | 'size+source-checksum' | 'size+server-hash' | 'size+source-checksum+server-hash';
