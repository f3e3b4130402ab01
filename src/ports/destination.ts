/** What the server says about a path. */
export interface RemoteStat {
  size: number;
  isDirectory: boolean;
}

/**
 * How a destination continues an interrupted write.
 * - 'offset': it writes at any offset (SFTP, local): the engine resumes from the smaller of what
 *   the server holds and what it acknowledged.
 * - 'append': it only appends at the end (FTP APPE): the engine resumes from the server's size.
 */
export type ResumeMode = 'offset' | 'append';

export interface WriteOptions {
  /** Start here. 0 creates or truncates the file; above 0 the file must hold at least this much. */
  offset: number;
  signal?: AbortSignal;
  /**
   * Called as the server acknowledges bytes, with the total acknowledged since `offset` (contiguous
   * from `offset`). Destinations without per-write acknowledgements call it only at the end.
   */
  onAcknowledged?: (bytesSinceOffset: number) => void;
}

/**
 * An open connection to a destination server. Paths are absolute, already checked by
 * `remotePath`. Methods throw DestinationError: NOT_FOUND, ACCESS_DENIED (permission),
 * AUTH_FAILED, DISK_FULL, ALREADY_EXISTS, NETWORK / TIMEOUT / SERVER_ERROR (retryable), CANCELLED.
 */
export interface DestinationSession {
  readonly resumeMode: ResumeMode;
  /** undefined when the path does not exist. */
  stat(path: string, signal?: AbortSignal): Promise<RemoteStat | undefined>;
  /** Creates the folder and its parents; fine if it exists. */
  ensureDir(path: string, signal?: AbortSignal): Promise<void>;
  /**
   * Writes every byte `data` yields at `options.offset` onward and resolves once the server has
   * confirmed all of them. Never sets permissions or times (some servers refuse SETSTAT).
   */
  write(path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void>;
  /**
   * Renames `from` to `to`. With `replace`, an existing `to` is replaced, atomically where the
   * server can (posix-rename@openssh.com); without it an existing `to` gives ALREADY_EXISTS.
   */
  rename(from: string, to: string, options: { replace: boolean; signal?: AbortSignal }): Promise<void>;
  /** Removes a file; fine if it is already gone. */
  remove(path: string, signal?: AbortSignal): Promise<void>;
  /** Closes the connection. Never throws. */
  close(): Promise<void>;
}

/** Optional ability: the server computes a file's SHA-256 itself (FTP HASH/XSHA256, sha256sum over SSH). */
export interface RemoteHasher {
  /** Lower-case hex SHA-256 of the file, or undefined when the server declines. */
  remoteSha256(path: string, signal?: AbortSignal): Promise<string | undefined>;
}

export function canHashRemotely(session: DestinationSession): session is DestinationSession & RemoteHasher {
  return typeof (session as Partial<RemoteHasher>).remoteSha256 === 'function';
}

/**
 * A configured destination: knows how to open sessions. Connecting verifies the server's identity
 * (SFTP host key, FTPS certificate) before any credential is sent, and throws HOST_KEY_UNKNOWN,
 * HOST_KEY_MISMATCH, TLS_CERT_INVALID, ALGORITHM_MISMATCH, AUTH_FAILED or NETWORK.
 */
export interface Destination {
  /** A safe description for logs and cards: protocol, user, host, port. Never a secret. */
  readonly label: string;
  connect(signal?: AbortSignal, options?: ConnectOptions): Promise<DestinationSession>;
}

/** What a transfer may ask of a new connection beyond the default; destinations ignore what they lack. */
export interface ConnectOptions {
  /**
   * Further channels to open together with the first one, for stripes (RangeWriter.openLane then
   * takes them). Opening a channel costs round trips of its own (four for SFTP); opened alongside
   * the first, a lane is ready when the connection is, instead of that many round trips later.
   */
  lanes?: number;
  /**
   * Called once when the server has accepted the login, before the connection's channels open:
   * the moment a striped transfer can start its other connections without one of them taking
   * the first one's place on a server that limits logins. Must not throw.
   */
  onAuthenticated?: () => void;
}

/** Optional ability: the folder a login starts in, so `/~/` paths can be resolved (curl's convention). */
export interface LoginFolder {
  loginFolder(signal?: AbortSignal): Promise<string>;
}

export function hasLoginFolder(session: DestinationSession): session is DestinationSession & LoginFolder {
  return typeof (session as Partial<LoginFolder>).loginFolder === 'function';
}
