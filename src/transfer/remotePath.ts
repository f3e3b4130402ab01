import { randomBytes } from 'node:crypto';
import { PathError } from '../domain/errors';

/**
 * Remote paths are checked before any connection is opened, so a bad path never reaches a server.
 * FTP carries paths inside CRLF-terminated commands, so CR/LF or NUL in a name could inject a
 * command; `..` could escape the folder a destination is meant to be confined to.
 */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Returns the normalised absolute form of `path` ('//' and '/./' collapsed, no trailing '/'),
 * or throws PathError naming the input. `what` names the input in the message ("remote folder").
 */
export function checkRemotePath(path: string, what = 'remote path'): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new PathError(`The ${what} is empty.`, `Give an absolute path such as /upload/file.csv.`);
  }
  if (CONTROL.test(path)) {
    throw new PathError(
      `The ${what} ${JSON.stringify(path)} contains a control character (CR, LF, NUL or similar).`,
      'Remove line breaks and control characters from the path.',
    );
  }
  if (!path.startsWith('/')) {
    throw new PathError(`The ${what} ${JSON.stringify(path)} is not absolute.`, 'Start the path with "/".');
  }
  const parts: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw new PathError(
        `The ${what} ${JSON.stringify(path)} contains "..".`,
        'Name the folder directly; moving up with ".." is not allowed.',
      );
    }
    parts.push(segment);
  }
  return '/' + parts.join('/');
}

/** Checks one file name (no slashes). */
export function checkFileName(name: string, what = 'file name'): string {
  if (name.includes('/')) {
    throw new PathError(`The ${what} ${JSON.stringify(name)} contains "/".`, 'Give a name without folders.');
  }
  const checked = checkRemotePath('/' + name, what);
  if (checked === '/') throw new PathError(`The ${what} is empty.`, 'Give a file name.');
  return checked.slice(1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinRemote(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * The temporary name a transfer writes under, in the same folder as the final file so that the
 * final rename never crosses file systems. Dot-prefixed so that directory watchers that skip hidden
 * files ignore it; the random part keeps two transfers to the same name apart.
 */
export function temporaryPathFor(finalPath: string, id = randomBytes(4).toString('hex')): string {
  return joinRemote(dirname(finalPath), `.${basename(finalPath)}.${id}.fileferry-part`);
}

/** "report.csv" → "report (n).csv", the convention browsers use for a name that is taken. */
export function withSuffix(path: string, n: number): string {
  const dir = dirname(path);
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  return joinRemote(dir, `${stem} (${n})${ext}`);
}
