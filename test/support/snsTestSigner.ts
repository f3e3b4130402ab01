import { execFileSync } from 'node:child_process';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:fileferry-outbound';

export interface SignedSnsMessage {
  Type: string;
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

interface MessageOptions {
  version?: '1' | '2';
  topicArn?: string;
  messageId?: string;
  timestamp?: string;
  /** Sign as if the certificate lived here (a wrong host, for the refusal tests). */
  certUrl?: string;
}

/**
 * Plays SNS for tests: an RSA key and a self-signed certificate made with openssl at run time
 * (nothing committed), a realistic certificate URL on `sns.eu-west-1.amazonaws.com`, and messages
 * signed over SNS's exact field order with SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2).
 * `fetcher` serves the certificate for that URL only, and records what was asked for.
 */
export class SnsTestSigner {
  readonly certUrl = `https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`;
  readonly certificatePem: string;
  readonly fetched: string[] = [];
  private readonly keyPem: string;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'fileferry-sns-'));
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=sns.amazonaws.com'],
        { stdio: 'pipe', env: { ...process.env, OPENSSL_CONF: '/dev/null' } },
      );
      this.keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
      this.certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  readonly fetcher = async (url: string): Promise<string> => {
    this.fetched.push(url);
    if (url !== this.certUrl) throw new Error(`no certificate at ${url}`);
    return this.certificatePem;
  };

  notification(message: string, options: MessageOptions & { subject?: string } = {}): SignedSnsMessage {
    const m: SignedSnsMessage = {
      Type: 'Notification',
      MessageId: options.messageId ?? randomUUID(),
      TopicArn: options.topicArn ?? TEST_TOPIC_ARN,
      ...(options.subject !== undefined ? { Subject: options.subject } : {}),
      Message: message,
      Timestamp: options.timestamp ?? new Date().toISOString(),
      SignatureVersion: options.version ?? '1',
      Signature: '',
      SigningCertURL: options.certUrl ?? this.certUrl,
      UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${options.topicArn ?? TEST_TOPIC_ARN}:${randomUUID()}`,
    };
    return this.sign(m, ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']);
  }

  subscriptionConfirmation(options: MessageOptions & { subscribeUrl?: string } = {}): SignedSnsMessage {
    const topicArn = options.topicArn ?? TEST_TOPIC_ARN;
    const token = randomBytes(64).toString('hex');
    const m: SignedSnsMessage = {
      Type: 'SubscriptionConfirmation',
      MessageId: options.messageId ?? randomUUID(),
      Token: token,
      TopicArn: topicArn,
      Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: options.subscribeUrl ?? `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
      Timestamp: options.timestamp ?? new Date().toISOString(),
      SignatureVersion: options.version ?? '1',
      Signature: '',
      SigningCertURL: options.certUrl ?? this.certUrl,
    };
    return this.sign(m, ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type']);
  }

  /** Signs again after a test changed a field on purpose (to get a valid signature over new values). */
  resign(m: SignedSnsMessage): SignedSnsMessage {
    return this.sign(
      m,
      m.Type === 'Notification'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
    );
  }

  private sign(m: SignedSnsMessage, order: Array<keyof SignedSnsMessage>): SignedSnsMessage {
    let text = '';
    for (const field of order) if (m[field] !== undefined) text += `${field}\n${m[field]}\n`;
    const signer = createSign(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(text, 'utf8');
    return { ...m, Signature: signer.sign(this.keyPem, 'base64') };
  }
}

/** The headers SNS sends with an HTTP(S) delivery. */
export function snsHeaders(m: SignedSnsMessage): Record<string, string> {
  return {
    'content-type': 'text/plain; charset=UTF-8',
    'x-amz-sns-message-type': m.Type,
    'x-amz-sns-message-id': m.MessageId,
    'x-amz-sns-topic-arn': m.TopicArn,
    'user-agent': 'Amazon Simple Notification Service Agent',
  };
}
