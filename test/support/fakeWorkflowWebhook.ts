import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditChannelMessage, NoticeOutcome } from '../../src/ports/notifier';
import { unescapeMarkdown } from '../../src/domain/markdownText';

/** Teams' "post card" limit (PROTOCOLS.md §4): a larger body is refused with 413. */
export const WEBHOOK_LIMIT_BYTES = 28 * 1024;

/** One POST the fake received. */
export interface WebhookCall {
  status: number;
  bytes: number;
  /** Date.now() when it arrived. */
  at: number;
  /** Why it was refused (400, 401, 413), for assertions. */
  refused?: string;
}

export interface WebhookFault {
  status: number;
  /** Retry-After in seconds (429). */
  retryAfterSeconds?: number;
  /** How many POSTs it answers. */
  times: number;
  /** Do not answer at all (the client's deadline must end it). */
  hang?: boolean;
}

/**
 * A stand-in for a Power Automate Workflows webhook ("When a Teams webhook request is received"),
 * on loopback: POST to a /powerautomate/… path whose `sig` query parameter is generated per run
 * (the secret part of a real URL; anything else is 401). It checks the body as the flow's
 * template needs it: JSON `type: "message"`, every attachment an Adaptive Card
 * (`contentType` application/vnd.microsoft.card.adaptive, `contentUrl` null or absent,
 * `content.type` AdaptiveCard with a version and a body), at most 28 KB (413 beyond). It answers
 * 202 with an empty body, as the service does, and keeps the cards for assertions. `fail()` makes
 * the next POSTs answer 429 (with Retry-After) or 5xx, or hang.
 */
export class FakeWorkflowWebhook {
  readonly cards: Record<string, unknown>[] = [];
  readonly calls: WebhookCall[] = [];
  private readonly faults: WebhookFault[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  /** The workflow's HTTP POST URL: a credential, as a real one is. */
  url = '';
  /** The `sig` value in `url`: a canary for "the URL appears in no log". */
  readonly sig = randomBytes(24).toString('base64url');

  static async start(): Promise<FakeWorkflowWebhook> {
    const w = new FakeWorkflowWebhook();
    w.server = createServer((req, res) => void w.handle(req, res));
    await new Promise<void>((resolve) => w.server.listen(0, '127.0.0.1', resolve));
    const port = (w.server.address() as AddressInfo).port;
    w.url = `http://127.0.0.1:${port}/powerautomate/automations/direct/workflows/${randomUUID().replace(/-/g, '')}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${w.sig}`;
    return w;
  }

  fail(fault: WebhookFault): void {
    this.faults.push({ ...fault });
  }

  /** Forgets cards, calls and armed faults (between tests on one server). */
  reset(): void {
    this.cards.length = 0;
    this.calls.length = 0;
    this.faults.length = 0;
  }

  /** The cards received so far, read back as messages. */
  messages(): AuditChannelMessage[] {
    return this.cards.map(messageOfCard);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const call: WebhookCall = { status: 0, bytes: raw.length, at: Date.now() };
    this.calls.push(call);
    const answer = (status: number, refused?: string, headers: Record<string, string> = {}): void => {
      call.status = status;
      if (refused) call.refused = refused;
      // Power Automate's error bodies: {"error":{"code":…,"message":…}}; success has no body at all.
      const body = status === 202 ? '' : JSON.stringify({ error: { code: refused ? 'InvalidRequestContent' : 'Injected', message: refused ?? 'injected by the test' } });
      res.writeHead(status, { ...headers, ...(body ? { 'content-type': 'application/json' } : {}), 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'POST' || !url.pathname.startsWith('/powerautomate/')) return answer(404, `${req.method} ${url.pathname} is not a workflow trigger`);
    if (url.searchParams.get('sig') !== this.sig) return answer(401, 'the sig parameter is wrong');
    const fault = this.faults.find((f) => f.times > 0);
    if (fault) {
      fault.times -= 1;
      if (fault.hang) {
        call.status = -1;
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      return answer(fault.status, undefined, fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
    }
    if (raw.length > WEBHOOK_LIMIT_BYTES) return answer(413, `Request Entity too large: ${raw.length} bytes`);
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return answer(400, 'content-type is not application/json');
    let body: { type?: unknown; attachments?: unknown };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return answer(400, 'the body is not JSON');
    }
    const problem = shapeProblem(body);
    if (problem) return answer(400, problem);
    for (const a of body.attachments as { content: Record<string, unknown> }[]) this.cards.push(a.content);
    answer(202);
  }
}

function shapeProblem(body: { type?: unknown; attachments?: unknown }): string | undefined {
  if (body.type !== 'message') return 'type is not "message"';
  if (!Array.isArray(body.attachments) || body.attachments.length === 0) return 'attachments is not a non-empty array';
  for (const a of body.attachments as Record<string, unknown>[]) {
    if (a.contentType !== 'application/vnd.microsoft.card.adaptive') return `an attachment's contentType is ${String(a.contentType)}`;
    if (a.contentUrl !== undefined && a.contentUrl !== null) return 'contentUrl is not null';
    const c = a.content as Record<string, unknown> | undefined;
    if (c?.type !== 'AdaptiveCard' || typeof c.version !== 'string' || !Array.isArray(c.body)) return 'content is not an Adaptive Card with a version and a body';
  }
  return undefined;
}

const LABELS: Record<string, NoticeOutcome> = {
  Completed: 'completed', Approved: 'approved', Failed: 'failed', Rejected: 'rejected', Interrupted: 'interrupted', Cancelled: 'cancelled', Expired: 'expired',
};

/**
 * An outcome card (src/adapters/notifier/outcomeCard.ts) read back by its element ids, as Teams
 * shows it: texts and facts are Markdown, so their escapes are removed.
 */
export function messageOfCard(card: Record<string, unknown>): AuditChannelMessage {
  const body = (card.body ?? []) as { id?: string; text?: string; facts?: { title: string; value: string }[] }[];
  const byId = (id: string) => body.find((e) => e.id === id);
  const shown = (text: string | undefined) => unescapeMarkdown(text ?? '');
  const message: AuditChannelMessage = { title: shown(byId('title')?.text), text: shown(byId('text')?.text) };
  const requestId = byId('request')?.facts?.[0]?.value;
  if (requestId !== undefined) message.requestId = shown(requestId);
  const facts = byId('facts')?.facts;
  if (facts) message.facts = Object.fromEntries(facts.map((f) => [shown(f.title), shown(f.value)]));
  const outcome = byId('outcome')?.text;
  if (outcome) message.outcome = LABELS[outcome];
  const actions = card.actions as { type: string; title: string; url: string }[] | undefined;
  if (actions) message.links = actions.filter((a) => a.type === 'Action.OpenUrl').map((a) => ({ title: a.title, url: a.url }));
  return message;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
