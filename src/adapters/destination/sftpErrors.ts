import { DestinationError, FerryError, isNetworkErrno, type ErrorCode } from '../../domain/errors';
import { ALREADY_EXISTS_HINT } from '../../domain/errorFactories';

/**
 * Turns what ssh2 reports (connection errors tagged with a `level`, SFTP STATUS replies carrying
 * the numeric status in `code`) into DestinationErrors with stable codes, a message naming the
 * server and path, and a hint. Messages quote the server's own status text, never a credential.
 */

/** SFTP status codes: v3 (what OpenSSH speaks) and the later drafts some servers send anyway. */
export const SFTP_STATUS = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
  NO_SUCH_PATH: 10,
  FILE_ALREADY_EXISTS: 11,
  WRITE_PROTECT: 12,
  NO_SPACE_ON_FILESYSTEM: 14,
  QUOTA_EXCEEDED: 15,
  NOT_A_DIRECTORY: 19,
  CANNOT_DELETE: 22,
} as const;

const STATUS_NAME = new Map<number, string>(Object.entries(SFTP_STATUS).map(([name, value]) => [value, name]));

/** The SFTP status an ssh2 error carries, or undefined for transport errors. */
export function sftpStatusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

const DISK_FULL_TEXT = /no space|quota|disk full|ENOSPC|EDQUOT|file too large|insufficient storage/i;

/** A bare FAILURE that names no cause: the status a server answers when it mishandles something. */
export function isGenericFailure(e: unknown): boolean {
  return sftpStatusOf(e) === SFTP_STATUS.FAILURE && !DISK_FULL_TEXT.test((e as Error).message ?? '');
}

/** What ssh2 says when the connection went away under a pending request. */
function isConnectionGone(e: unknown): boolean {
  const message = (e as Error)?.message ?? '';
  return /No response from server|Not connected|Channel is not open|connection lost/i.test(message);
}

export interface SftpOperation {
  /** "write", "rename", … */
  operation: string;
  path: string;
  /** The destination's label (sftp://user@host:port). */
  label: string;
}

/** Maps an error from an SFTP request. A FerryError passes through unchanged. */
export function mapSftpError(e: unknown, op: SftpOperation): FerryError {
  if (e instanceof FerryError) return e;
  const status = sftpStatusOf(e);
  const text = ((e as Error)?.message ?? String(e)).slice(0, 200);
  const what = `SFTP ${op.operation} of ${op.path} on ${op.label}`;
  const fail = (code: ErrorCode, hint: string, retryable?: boolean): DestinationError =>
    new DestinationError(code, `${what} failed: ${text}${status === undefined ? '' : ` (status ${STATUS_NAME.get(status) ?? status})`}.`, {
      hint,
      cause: e,
      ...(retryable === undefined ? {} : { retryable }),
    });
  switch (status) {
    case SFTP_STATUS.NO_SUCH_FILE:
    case SFTP_STATUS.NO_SUCH_PATH:
    case SFTP_STATUS.NOT_A_DIRECTORY:
      return fail('NOT_FOUND', 'Check that the folder exists on the server and the path is spelt as the server expects.');
    case SFTP_STATUS.PERMISSION_DENIED:
    case SFTP_STATUS.WRITE_PROTECT:
    case SFTP_STATUS.CANNOT_DELETE:
      return fail('ACCESS_DENIED', "Ask the server's administrator to give this user write access to the folder, or choose another folder.");
    case SFTP_STATUS.NO_SPACE_ON_FILESYSTEM:
    case SFTP_STATUS.QUOTA_EXCEEDED:
      return fail('DISK_FULL', 'Free space (or raise the quota) on the server, then send the file again.');
    case SFTP_STATUS.FILE_ALREADY_EXISTS:
      return fail('ALREADY_EXISTS', ALREADY_EXISTS_HINT);
    case SFTP_STATUS.OP_UNSUPPORTED:
      return fail('UNSUPPORTED', 'The server does not offer this operation; ask its administrator or use another server.');
    case SFTP_STATUS.NO_CONNECTION:
    case SFTP_STATUS.CONNECTION_LOST:
      return fail('NETWORK', 'The connection dropped; the transfer retries and resumes.');
    case SFTP_STATUS.FAILURE:
      return DISK_FULL_TEXT.test(text)
        ? fail('DISK_FULL', 'Free space (or raise the quota) on the server, then send the file again.')
        : fail('SERVER_ERROR', 'The server refused without saying why; check free space and permissions there if it persists.');
    case SFTP_STATUS.BAD_MESSAGE:
      return fail('SERVER_ERROR', 'The server did not understand the request; its SFTP implementation may be incompatible.', false);
    case undefined:
      if (isNetworkErrno(e) || isConnectionGone(e)) return fail('NETWORK', 'The connection dropped; the transfer retries and resumes.');
      return fail('INTERNAL', 'Retry; if it persists, report it with the log.');
    default:
      return fail('SERVER_ERROR', 'The server refused the request; check the path and the account on the server.');
  }
}

/** ssh2's "no matching …" phrase → the label its debug output gives that algorithm list. */
const CATEGORY: Record<string, string> = {
  'key exchange algorithm': 'KEX method',
  'host key format': 'Host key format',
  'C->S cipher': 'C->S cipher',
  'S->C cipher': 'S->C cipher',
  'C->S MAC': 'C->S MAC',
  'S->C MAC': 'S->C MAC',
  'C->S compression': 'C->S compression',
  'S->C compression': 'S->C compression',
};

/**
 * Collects the algorithm lists both sides offered from ssh2's debug lines
 * ("Handshake: (local) C->S cipher: a,b" / "Handshake: (remote) …"), so a failed negotiation can
 * say what each side offered. Only those lines are kept; everything else is dropped unread.
 */
export class HandshakeLog {
  private readonly offers = new Map<string, { local?: string[]; remote?: string[] }>();

  readonly debug = (line: string): void => {
    if (!line.startsWith('Handshake: (')) return;
    const match = /^Handshake: \((local|remote)\) ([^:]+): ?(.*)$/.exec(line);
    if (!match) return;
    const [, side, category, list] = match;
    const entry = this.offers.get(category!) ?? {};
    entry[side as 'local' | 'remote'] = list!.split(',').map((s) => s.trim()).filter((s) => s && !/^(ext-info-|kex-strict-)/.test(s));
    this.offers.set(category!, entry);
  };

  offered(category: string): { local?: string[]; remote?: string[] } {
    return this.offers.get(category) ?? {};
  }
}

export interface ConnectContext {
  label: string;
  username: string;
  handshake?: HandshakeLog;
}

/** Maps an error raised while connecting (socket, handshake, authentication). */
export function mapConnectError(e: unknown, context: ConnectContext): FerryError {
  if (e instanceof FerryError) return e;
  const error = e as Error & { level?: string; code?: unknown };
  const message = error?.message ?? String(e);
  const where = context.label;
  if (error?.level === 'client-authentication' || error?.code === 14 /* NO_MORE_AUTH_METHODS_AVAILABLE */) {
    return new DestinationError('AUTH_FAILED', `The SFTP server ${where} refused the login of ${context.username}.`, {
      hint: 'Check the user name and the password or private key (and its passphrase); the account may also be locked or not allowed to log in.',
      cause: e,
    });
  }
  const mismatch = /^Handshake failed: no matching (.+)$/i.exec(message);
  if (mismatch) {
    const category = mismatch[1]!;
    const offers = context.handshake?.offered(CATEGORY[category] ?? category) ?? {};
    const list = (l?: string[]): string => (l && l.length > 0 ? l.join(', ') : 'unknown');
    return new DestinationError(
      'ALGORITHM_MISMATCH',
      `FileFerry and the SFTP server ${where} share no ${category}: FileFerry offers ${list(offers.local)}; the server offers ${list(offers.remote)}.`,
      {
        hint: "Ask the server's administrator to enable one of the algorithms FileFerry offers (sshd_config KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs).",
        cause: e,
      },
    );
  }
  if (error?.level === 'client-timeout') {
    return new DestinationError('TIMEOUT', `The SFTP server ${where} stopped answering (${message}).`, {
      hint: 'The transfer retries; check the network or the server if it keeps happening.',
      cause: e,
    });
  }
  if ((error as { code?: unknown })?.code === 'ENOTFOUND') {
    return new DestinationError('NETWORK', `The host name of ${where} does not resolve.`, {
      hint: 'Check the host name of the destination.',
      retryable: false,
      cause: e,
    });
  }
  if (error?.level === 'handshake') {
    return new DestinationError('SERVER_ERROR', `The SSH handshake with ${where} failed: ${message.slice(0, 200)}.`, {
      hint: "Retry; if it persists, the server's SSH implementation may be incompatible.",
      cause: e,
    });
  }
  if (isNetworkErrno(e) || error?.level === 'client-socket' || typeof error?.code === 'number' || /Connection lost|closed|No response/i.test(message)) {
    const detail = typeof error?.code === 'string' ? error.code : message.slice(0, 200);
    return new DestinationError('NETWORK', `The connection to ${where} failed (${detail}).`, {
      hint: 'The transfer retries; check the host, the port and the firewall if it keeps failing.',
      cause: e,
    });
  }
  return new DestinationError('INTERNAL', `Connecting to ${where} failed unexpectedly: ${message.slice(0, 200)}.`, {
    hint: 'Retry; if it persists, report it with the log.',
    cause: e,
  });
}

/** No answer for `ms`: the connection stalled (a dead NAT mapping, a hung server). */
export function stalled(label: string, what: string, ms: number): DestinationError {
  return new DestinationError('TIMEOUT', `${what} on ${label}: no answer for ${Math.round(ms / 100) / 10} s.`, {
    hint: 'The connection stalled; the transfer retries and resumes where it stopped.',
  });
}

/** The connection closed under us. */
export function connectionClosed(label: string, cause?: unknown): DestinationError {
  return new DestinationError('NETWORK', `The connection to ${label} closed.`, {
    hint: 'The transfer retries and resumes; check the network if it keeps happening.',
    ...(cause === undefined ? {} : { cause }),
  });
}
