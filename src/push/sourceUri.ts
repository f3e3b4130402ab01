import { dirname, basename, resolve } from 'node:path';

/**
 * Where a push rule watches, from its `source` URI: `s3://bucket/prefix/`, `azblob://container/prefix/`
 * or `file:///folder/`. For a local folder the folder itself is the container (read by a local
 * source rooted at its parent), so every scheme has one container and a key prefix inside it.
 */
export interface WatchedPlace {
  scheme: 's3' | 'azblob' | 'file';
  container: string;
  /** Keys start with this ('' for all of the container); ends with '/' when not empty. */
  prefix: string;
  /** file only: the folder that holds the container. */
  root?: string;
}

/** Parses a source URI; throws an Error whose message says what is wrong (the caller adds the rule and field). */
export function parseSourceUri(uri: string): WatchedPlace {
  const m = /^(s3|azblob|file):\/\/(.*)$/.exec(uri);
  if (!m) throw new Error(`${JSON.stringify(uri)} is not s3://bucket/prefix/, azblob://container/prefix/ or file:///folder/`);
  const scheme = m[1] as WatchedPlace['scheme'];
  let rest: string;
  try {
    rest = decodeURIComponent(m[2]!);
  } catch {
    throw new Error(`${JSON.stringify(uri)} has a broken percent-escape`);
  }
  if (/[\r\n\0]/.test(rest) || rest.split('/').some((p) => p === '..' || p === '.')) throw new Error(`${JSON.stringify(uri)} holds "..", "." or a control character`);
  if (scheme === 'file') {
    if (!rest.startsWith('/')) throw new Error(`${JSON.stringify(uri)} must be absolute: file:///folder/`);
    const folder = resolve(rest);
    if (folder === '/') throw new Error('file:/// cannot watch the whole disk; name a folder');
    return { scheme, container: basename(folder), prefix: '', root: dirname(folder) };
  }
  const slash = rest.indexOf('/');
  const container = slash < 0 ? rest : rest.slice(0, slash);
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!container) throw new Error(`${JSON.stringify(uri)} names no ${scheme === 's3' ? 'bucket' : 'container'}`);
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { scheme, container, prefix };
}
