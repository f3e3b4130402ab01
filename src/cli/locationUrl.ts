import { FerryError } from '../domain/errors';
import { checkRemotePath } from '../transfer/remotePath';

/**
 * rclone-like locations. In sftp/ftp/ftps URLs the path after host:port is absolute on the server;
 * a path starting with `/~/` is relative to the login folder (curl's convention). Percent-escapes
 * are decoded before the path is checked, so `%2e%2e` or `%0d%0a` is refused like `..` or CR/LF.
 */
export type Location =
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'azblob'; container: string; key: string }
  | { kind: 'file'; path: string }
  | {
      kind: 'sftp' | 'ftp' | 'ftps';
      host: string;
      port: number;
      username: string;
      /** Absolute path, or relative to the login folder when `fromHome`. */
      path: string;
      fromHome: boolean;
      /** The URL ended in '/': a folder, the source's file name goes inside it. */
      isFolder: boolean;
    };

const DEFAULT_PORTS = { sftp: 22, ftp: 21, ftps: 21 } as const;

function urlError(url: string, problem: string, hint: string): FerryError {
  return new FerryError('config', 'INVALID_URL', `${JSON.stringify(redactUrl(url))}: ${problem}`, { hint });
}

/** The URL with any password replaced, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9]+:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw urlError(url, 'it has a malformed percent-escape.', 'Escape "%" itself as %25.');
  }
}

export function parseLocation(url: string): Location {
  const match = /^([a-z0-9]+):\/\/([^/]*)(\/.*)?$/i.exec(url);
  if (!match) {
    throw urlError(url, 'it is not a location URL.', 'Use s3://bucket/key, azblob://container/blob, file:///path, sftp://user@host:port/path, ftp://… or ftps://….');
  }
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  const rawPath = match[3] ?? '/';
  const path = decode(url, rawPath);

  switch (scheme) {
    case 's3':
    case 'azblob': {
      const container = decode(url, authority);
      if (!container) throw urlError(url, `it names no ${scheme === 's3' ? 'bucket' : 'container'}.`, `Write ${scheme}://name/key.`);
      const key = path.replace(/^\//, '');
      if (/[\u0000-\u001f\u007f]/.test(key) || key.split('/').includes('..')) {
        throw urlError(url, 'the key contains ".." or a control character.', 'Name the object by its exact key.');
      }
      return scheme === 's3' ? { kind: 's3', bucket: container, key } : { kind: 'azblob', container, key };
    }
    case 'file': {
      if (authority !== '' && authority !== 'localhost') {
        throw urlError(url, 'file URLs must be local.', 'Write file:///absolute/path (three slashes).');
      }
      return { kind: 'file', path: checkRemotePath(path, 'local path') };
    }
    case 'sftp':
    case 'ftp':
    case 'ftps': {
      const at = authority.lastIndexOf('@');
      if (at < 0) throw urlError(url, 'it names no user.', `Write ${scheme}://user@host:port/path.`);
      const userInfo = authority.slice(0, at);
      if (userInfo.includes(':')) {
        throw urlError(url, 'it contains a password.', 'Never put secrets on the command line: set FILEFERRY_DEST_PASSWORD or answer the prompt.');
      }
      const hostPort = authority.slice(at + 1);
      const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
      if (!hp) throw urlError(url, 'the host is malformed.', 'Write host or host:port.');
      const port = hp[2] ? Number(hp[2]) : DEFAULT_PORTS[scheme];
      if (!(port >= 1 && port <= 65535)) throw urlError(url, `port ${hp[2]} is out of range.`, 'Use a port from 1 to 65535.');
      const fromHome = path === '/~' || path.startsWith('/~/');
      const checked = checkRemotePath(fromHome ? path.slice(2) || '/' : path, 'server path');
      return {
        kind: scheme,
        host: hp[1]!.replace(/^\[|\]$/g, ''),
        port,
        username: decode(url, userInfo),
        path: checked,
        fromHome,
        isFolder: path.endsWith('/'),
      };
    }
    default:
      throw urlError(url, `the scheme "${scheme}" is not supported.`, 'Use s3, azblob, file, sftp, ftp or ftps.');
  }
}
