import { checkRemotePath } from '../transfer/remotePath';
import { OVERWRITE_POLICIES, type OverwritePolicy } from '../domain/transferTerms';
import type { DestinationChoice } from '../domain/requestRecord';
import { text, type FieldErrors } from './requestValidation';

export interface DestinationFormValues {
  savedDestination: string;
  protocol: string;
  host: string;
  port: string;
  username: string;
  remoteFolder: string;
  overwrite: string;
  /** The plain-FTP consent toggle as submitted ('true'), so it stays on when the form comes back. */
  plainFtpConsent?: string;
}

export type DestinationField = keyof DestinationFormValues | 'password' | 'plainFtpConsent';

/** The choice-set value (or empty) that means "an ad-hoc destination typed below". */
export const AD_HOC = 'adhoc';

export interface DestinationPolicy {
  savedNames: readonly string[];
  allowAdHoc: boolean;
  allowPlainFtp: boolean;
}

export interface ValidDestination {
  choice: DestinationChoice;
  overwrite: OverwritePolicy;
  /** Typed on the card for an ad-hoc destination; held in memory only. */
  password?: string;
}

export type DestinationValidation =
  | { ok: true; values: DestinationFormValues; destination: ValidDestination }
  | { ok: false; values: DestinationFormValues; errors: FieldErrors<DestinationField> };

const HOST = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$/;
const USER = /^[^\s\u0000-\u001f\u007f:@/]{1,128}$/;


/**
 * Validates the destination form against the policy. A saved destination is chosen by name and
 * needs nothing else; an ad-hoc one needs protocol, host, port (22 for SFTP, 21 for FTP/FTPS when
 * empty), user, password and an absolute remote folder. Plain FTP needs the policy and the user's
 * explicit consent. The password is never part of `values`, so it never goes back on a card.
 */
export function validateDestinationForm(inputs: Record<string, unknown>, policy: DestinationPolicy): DestinationValidation {
  const values: DestinationFormValues = {
    savedDestination: text(inputs, 'savedDestination', 100),
    protocol: text(inputs, 'protocol', 10).toLowerCase(),
    host: text(inputs, 'host', 260),
    port: text(inputs, 'port', 10),
    username: text(inputs, 'username', 140),
    remoteFolder: text(inputs, 'remoteFolder', 1100),
    overwrite: text(inputs, 'overwrite', 10) || 'fail',
    plainFtpConsent: text(inputs, 'plainFtpConsent', 10) === 'true' ? 'true' : 'false',
  };
  const rawPassword = inputs.password;
  const password = typeof rawPassword === 'string' ? rawPassword : '';
  const errors: FieldErrors<DestinationField> = {};
  if (!OVERWRITE_POLICIES.includes(values.overwrite as OverwritePolicy)) errors.overwrite = 'Choose what to do if the file exists: fail, replace or rename.';
  const overwrite = values.overwrite as OverwritePolicy;

  if (values.savedDestination && values.savedDestination !== AD_HOC) {
    if (!policy.savedNames.includes(values.savedDestination)) errors.savedDestination = 'Choose one of the saved destinations.';
    if (Object.keys(errors).length) return { ok: false, values, errors };
    return { ok: true, values, destination: { choice: { kind: 'saved', name: values.savedDestination }, overwrite } };
  }
  if (!policy.allowAdHoc) {
    errors.savedDestination = 'Ad-hoc destinations are turned off here: choose a saved destination.';
    return { ok: false, values, errors };
  }
  const protocol = values.protocol as 'sftp' | 'ftps' | 'ftp';
  if (!['sftp', 'ftps', 'ftp'].includes(protocol)) errors.protocol = 'Choose the protocol: SFTP, FTPS or FTP.';
  else if (protocol === 'ftp') {
    if (!policy.allowPlainFtp) errors.protocol = 'Plain FTP sends the password unencrypted and is turned off by policy: use SFTP or FTPS.';
    else if (values.plainFtpConsent !== 'true') errors.plainFtpConsent = 'Plain FTP is unencrypted: tick the box to confirm you accept that.';
  }
  if (!values.host) errors.host = 'Enter the server name or IP address, such as sftp.example.com.';
  else if (!HOST.test(values.host)) errors.host = 'Enter a host name or IP address without spaces, scheme or path, such as sftp.example.com.';
  let port = protocol === 'sftp' ? 22 : 21;
  if (values.port) {
    port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 1 && port <= 65535)) errors.port = 'Enter a port from 1 to 65535 (22 for SFTP, 21 for FTP and FTPS).';
  }
  if (!values.username) errors.username = 'Enter the user name to log in with.';
  else if (!USER.test(values.username)) errors.username = 'A user name has no spaces, control characters, ":", "@" or "/".';
  if (!password) errors.password = 'Enter the password (it is used for this transfer only and never stored).';
  else if (password.length > 1024 || /[\r\n\u0000]/.test(password)) errors.password = 'The password cannot contain line breaks and is at most 1024 characters.';
  let remoteFolder = '';
  if (!values.remoteFolder) errors.remoteFolder = 'Enter the folder on the server, such as /upload.';
  else {
    try {
      remoteFolder = checkRemotePath(values.remoteFolder, 'remote folder');
    } catch (e) {
      errors.remoteFolder = `${(e as Error).message} ${(e as { hint?: string }).hint ?? ''}`.trim();
    }
  }
  if (Object.keys(errors).length) return { ok: false, values, errors };
  return {
    ok: true,
    values: { ...values, port: String(port) },
    destination: { choice: { kind: 'adhoc', protocol, host: values.host, port, username: values.username, remoteFolder }, overwrite, password },
  };
}
