import { SourceError } from '../../domain/errors';

/**
 * The opaque `nextToken` of the local listing: the sort key of the last entry a page returned.
 * Versioned and base64url-encoded so callers treat it as opaque (cards carry it as a string).
 */
export function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string, where: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; after?: unknown };
    if (parsed.v === 1 && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the typed error
  }
  throw new SourceError('INVALID_PATH', `The page token for ${where} is not one this listing issued.`, {
    hint: 'List again from the first page.',
  });
}
