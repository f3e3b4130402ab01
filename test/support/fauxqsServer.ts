import { randomBytes } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';

/** The part of fauxqs's programmatic API these tests use (it ships ESM only, loaded lazily). */
interface FauxqsHandle {
  address: string;
  port: number;
  createQueue(name: string, options?: { attributes?: Record<string, string> }): { queueUrl: string; queueArn: string; queueName: string };
  inspectQueue(name: string):
    | { messages: { ready: unknown[]; delayed: unknown[]; inflight: unknown[] }; attributes: Record<string, string> }
    | undefined;
  stop(): Promise<void>;
}

export const FAUXQS_REGION = 'us-east-1';

export interface FauxqsServer {
  /** http://127.0.0.1:PORT: SQS, SNS and S3 on one port. */
  endpoint: string;
  /**
   * A client with the explicit endpoint (so the queue URL's `sqs.<region>.localhost` host, which
   * need not resolve here, is not used as the endpoint), the region, and credentials made up at
   * run time (fauxqs accepts any). The server's stop() destroys it.
   */
  client(): SQSClient;
  createQueue(name: string, attributes?: Record<string, string>): { queueUrl: string; queueArn: string };
  send(queueUrl: string, body: string): Promise<string>;
  /** Messages by state, without changing them. */
  counts(name: string): { ready: number; delayed: number; inflight: number };
  stop(): Promise<void>;
}

/**
 * fauxqs 1.9.2 (npm; 2.x needs Node 22.5) in this process on a loopback port the OS picks: a real
 * SQS server on the JSON protocol, with visibility timeouts, long polling, redrive to a DLQ and
 * real MD5s, so the SDK's checks stay on.
 */
export async function startFauxqs(): Promise<FauxqsServer> {
  const { startFauxqs: start } = (await import('fauxqs')) as unknown as { startFauxqs: (o: object) => Promise<FauxqsHandle> };
  const server = await start({ port: 0, logger: false });
  const endpoint = server.address;
  const credentials = { accessKeyId: `AKID${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64') };
  const clients = new Set<SQSClient>();
  const client = (): SQSClient => {
    const c = new SQSClient({ endpoint, region: FAUXQS_REGION, credentials, maxAttempts: 1 });
    clients.add(c);
    return c;
  };
  const admin = client();
  return {
    endpoint,
    client,
    createQueue(name, attributes) {
      const { queueUrl, queueArn } = server.createQueue(name, attributes ? { attributes } : undefined);
      return { queueUrl, queueArn };
    },
    async send(queueUrl, body) {
      const sent = await admin.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      return sent.MessageId!;
    },
    counts(name) {
      const q = server.inspectQueue(name);
      if (!q) throw new Error(`fauxqs has no queue ${name}`);
      return { ready: q.messages.ready.length, delayed: q.messages.delayed.length, inflight: q.messages.inflight.length };
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
}
