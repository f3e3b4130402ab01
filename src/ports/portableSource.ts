import type { StorageSource } from './storageSource';

/**
 * How another thread of this process opens the same source for itself: plain data, never a
 * secret. A credential the source holds (the requester's role credentials, an Entra ID token) is
 * not in it: it is lent on request by the thread that holds the source (`lend`), each time the
 * other thread's SDK asks for a fresh one.
 */
export type SourceRecipe =
  | { kind: 'file'; root: string }
  /** `credentials`: 'chain' = the SDK's default chain (the service's own identity), 'lent' = ask `lend`. */
  | { kind: 's3'; region?: string; endpoint?: string; listRegion?: string; credentials: 'chain' | 'lent' }
  /** Reached with an Entra ID token, lent for the scopes the SDK asks for. */
  | { kind: 'azblob'; accountUrl: string };

/** A credential as `lend` hands it out: S3 role credentials, or an access token. */
export type LentCredential =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }
  | { token: string; expiresOnTimestamp: number; refreshAfterTimestamp?: number };

/** What the other thread's SDK asks a lent credential for (an Entra token's scopes, and the claims or tenant of a challenge). */
export interface LendRequest {
  scopes?: string[];
  claims?: string;
  tenantId?: string;
}

/**
 * A source another thread can open from a recipe (a transfer's worker thread reads the object
 * itself instead of through the thread that holds the sign-in). Optional: a source without it is
 * read through its own thread.
 */
export interface PortableSource extends StorageSource {
  /** The recipe, or undefined when this instance cannot be described (built around a given client, a secret in its URL). */
  recipe(): SourceRecipe | undefined;
  /** The credential a recipe marked as lent, as it is now; throws as the source would (SESSION_EXPIRED …). Absent where no recipe lends one. */
  lend?(request: LendRequest): Promise<LentCredential>;
}

export function isPortable(source: StorageSource): source is PortableSource {
  return typeof (source as Partial<PortableSource>).recipe === 'function';
}
