import { FTPError } from 'basic-ftp';
import { DestinationError, FerryError, isNetworkErrno, type ErrorCode } from '../../domain/errors';

/**
 * Turns what basic-ftp throws (FTPError with the server's reply code, socket and TLS errors, its
 * own timeout errors) into a DestinationError with a stable code, a message naming the server and
 * the path, and a hint. Secrets never reach the message: the password is scrubbed from any text a
 * server or library echoes back.
 */
export interface FtpErrorContext {
  /** "ftps://user@host:port", never a secret. */
  label: string;
  /** What was being done, e.g. "upload to /in/a.csv". */
  action: string;
  /** What a bare 550 most likely means for this command (servers such as vsftpd say only "failed"). */
  when550?: 'NOT_FOUND' | 'ACCESS_DENIED';
  /** Scrubbed from every message, just in case a server or library echoes it. */
  secret?: string;
}

/** Node's certificate verification failures (tls.connect's error codes). */
const TLS_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED',
]);

export const TLS_HINT =
  "The server's certificate is not trusted for this host name: if the server uses a private CA, give its PEM as the destination's caFile (in FILEFERRY_DESTINATIONS_FILE; --ca for the CLI), and connect by the name on the certificate; never disable verification.";

export function isTlsCertificateError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && (TLS_CERT_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_TLS_CERT'));
}

/** The reply code of an FTPError (a number from 100 to 599), or undefined for any other error. */
export function ftpReplyCode(e: unknown): number | undefined {
  return e instanceof FTPError && typeof e.code === 'number' ? e.code : undefined;
}

export function mapFtpError(e: unknown, context: FtpErrorContext): FerryError {
  if (e instanceof FerryError) return e;
  const raw = String((e as Error)?.message ?? e).replace(/\s+/g, ' ').trim();
  const said = context.secret ? raw.split(context.secret).join('***') : raw;
  const make = (code: ErrorCode, hint: string, retryable?: boolean): DestinationError =>
    new DestinationError(code, `${context.label}: ${context.action} failed: ${said}`, { hint, cause: e, retryable });

  const reply = ftpReplyCode(e);
  if (reply !== undefined) return fromReply(reply, said, context, make);

  if (isTlsCertificateError(e)) return make('TLS_CERT_INVALID', TLS_HINT);
  const errno = (e as { code?: unknown })?.code;
  if (errno === 'ENOTFOUND') return make('NETWORK', 'Check the host name of the destination.', false);
  if (isNetworkErrno(e)) return make('NETWORK', 'The connection dropped; the transfer retries. Check the network if it keeps failing.');
  if (/^Timeout/i.test(raw)) return make('TIMEOUT', 'The server stopped answering; the transfer retries and resumes.');
  if (/closed|FIN packet|transmission error|data connection|transfer strateg/i.test(raw)) {
    return make('NETWORK', 'The connection dropped; the transfer retries. Check the network or firewall (passive ports) if it keeps failing.');
  }
  if (/SSL|TLS|handshake|wrong version/i.test(raw)) {
    return make('NETWORK', 'The TLS handshake failed; check that the server offers explicit FTPS (AUTH TLS) on this port.', false);
  }
  return make('INTERNAL', 'Unexpected FTP failure; the log has the detail.');
}

function fromReply(
  reply: number,
  said: string,
  context: FtpErrorContext,
  make: (code: ErrorCode, hint: string, retryable?: boolean) => DestinationError,
): DestinationError {
  switch (reply) {
    case 530:
      return make('AUTH_FAILED', 'Check the user name and password for this destination (and whether the server requires FTPS).');
    case 532:
      return make('AUTH_FAILED', 'The server asks for an account (ACCT) after login, which FileFerry does not send.');
    case 552:
    case 452:
      return make('DISK_FULL', 'The server is out of space or over quota; free space there, then retry.');
    case 553:
      return make('ACCESS_DENIED', 'The server refuses this file name or location; check the remote folder and write permission.');
    case 421:
      return make('SERVER_ERROR', 'The server closed the session (busy or shutting down); the transfer retries.');
    case 425:
    case 426:
      return make('NETWORK', 'The data connection failed; the transfer retries. If it persists, check that passive ports are open.');
    case 450:
    case 451:
      return make('SERVER_ERROR', 'The server had a temporary problem; the transfer retries.');
    case 550: {
      if (/no such|not found|does not exist|doesn't exist|not exist|cannot be listed|unknown file/i.test(said)) {
        return make('NOT_FOUND', 'Check that the remote folder exists.');
      }
      if (/denied|permission|not permitted|not allowed|forbidden|access/i.test(said)) {
        return make('ACCESS_DENIED', 'Give the FTP user write access to the remote folder.');
      }
      return context.when550 === 'NOT_FOUND'
        ? make('NOT_FOUND', 'Check that the remote path exists.')
        : make('ACCESS_DENIED', 'The server refused; check the remote path and the FTP user\'s permissions.');
    }
    case 500:
    case 501:
    case 502:
    case 504:
      return make('UNSUPPORTED', 'The server does not support a command FileFerry needs here.');
    case 522:
    case 533:
    case 534:
      return make('ACCESS_DENIED', 'The server refused for policy reasons (often: it requires or forbids TLS); check the protocol setting.');
  }
  if (reply >= 400 && reply < 500) return make('SERVER_ERROR', 'The server reported a temporary problem; the transfer retries.');
  return make('SERVER_ERROR', 'The server refused the command; its reply is in the message.', false);
}
