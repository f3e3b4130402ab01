import { createVerify, X509Certificate } from 'node:crypto';

/** The fields of an SNS HTTP(S) message that take part in its signature or its handling. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

const TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

/** Reads an SNS message out of a parsed body, or says which field is wrong. */
export function readSnsMessage(value: unknown): SnsMessage | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body is not a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v.Type !== 'string' || !TYPES.has(v.Type)) return 'Type';
  for (const field of ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'Signature', 'SigningCertURL']) {
    if (typeof v[field] !== 'string' || !v[field]) return field;
  }
  if (v.SignatureVersion !== '1' && v.SignatureVersion !== '2') return 'SignatureVersion';
  if (v.Subject !== undefined && v.Subject !== null && typeof v.Subject !== 'string') return 'Subject';
  if (v.Type !== 'Notification') {
    if (typeof v.Token !== 'string' || !v.Token) return 'Token';
    if (typeof v.SubscribeURL !== 'string' || !v.SubscribeURL) return 'SubscribeURL';
  }
  const message = { ...v } as unknown as SnsMessage;
  // SNS via Lambda writes a missing Subject as null; over HTTPS it is absent. Neither is signed.
  if (v.Subject === null) delete message.Subject;
  return message;
}

/**
 * The text SNS signs: `name\nvalue\n` for each field, in this order, a field that is absent left
 * out (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
 */
export function snsStringToSign(m: SnsMessage): string {
  const fields =
    m.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  let text = '';
  for (const field of fields) {
    const value = m[field];
    if (value !== undefined) text += `${field}\n${value}\n`;
  }
  return text;
}

/** SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA; true when the signature verifies with the certificate's key. */
export function verifySnsSignature(m: SnsMessage, certificate: X509Certificate): boolean {
  const verifier = createVerify(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  verifier.update(snsStringToSign(m), 'utf8');
  try {
    return verifier.verify(certificate.publicKey, Buffer.from(m.Signature, 'base64'));
  } catch {
    return false;
  }
}

/** `sns.<region>.amazonaws.com` (or `.amazonaws.com.cn`): where SNS's certificates and confirmation links live. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/**
 * True for an https URL on an SNS host, on the default port, with no user info. `pathPattern`
 * narrows the path (the certificate's is `/SimpleNotificationService-<hex>.pem`).
 */
export function isSnsUrl(url: string, pathPattern?: RegExp): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    SNS_HOST.test(parsed.hostname) &&
    (!pathPattern || pathPattern.test(parsed.pathname))
  );
}

export const SNS_CERT_PATH = /^\/SimpleNotificationService-[A-Za-z0-9]+\.pem$/;
