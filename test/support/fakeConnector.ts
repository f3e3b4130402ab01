import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the bot made to the connector. */
export interface ConnectorCall {
  method: 'POST' | 'PUT';
  /** `create`: POST /v3/conversations (a new channel post, as TeamsInfo.sendMessageToTeamsChannel makes). */
  kind: 'send' | 'reply' | 'update' | 'create';
  conversationId: string;
  /** The new activity's ID (send/reply) or the updated one's (update). */
  activityId: string;
  activity: Record<string, unknown>;
  /** Date.now() when it arrived. */
  at: number;
  /** What the fake answered. */
  status: number;
}

/** A message as the chat shows it now: the last content sent or updated under its ID. */
export interface ChatMessage {
  activityId: string;
  conversationId: string;
  activity: Record<string, unknown>;
  /** Every content it had, oldest first. */
  versions: Record<string, unknown>[];
  /** Date.now() of the last send or update. */
  updatedAt: number;
}

export interface FailureRule {
  method: 'POST' | 'PUT';
  status: number;
  /** Retry-After header value in seconds (429). */
  retryAfterSeconds?: number;
  /** How many matching calls fail. */
  times: number;
  /** Only POST /v3/conversations (`conversations`) or only …/activities (`activities`); default both. */
  path?: 'conversations' | 'activities';
}

/** A POST /v3/conversations the bot made: its ConversationParameters, as sent. */
export interface CreatedConversation {
  parameters: Record<string, unknown>;
  /** channelData.channel.id of the parameters (the channel posted in). */
  channelId: string | undefined;
  conversationId: string;
  activityId: string;
}

/**
 * A local stand-in for the Bot Connector service, speaking its REST shape: POST
 * /v3/conversations/:id/activities (send), POST …/activities/:replyToId (reply), PUT
 * …/activities/:activityId (update), each answered `{ id }` as the service does. It records every
 * call and keeps each message's current content, so a test sees the chat as the user would.
 * `fail()` makes the next N matching calls answer 429 (with Retry-After) or 5xx. POST
 * /v3/conversations creates a channel post (see `create`), recorded in `created`.
 */
export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  readonly messages = new Map<string, ChatMessage>();
  /** Conversations created by POST /v3/conversations (channel posts), oldest first. */
  readonly created: CreatedConversation[] = [];
  private readonly rules: FailureRule[] = [];
  private seq = 0;
  private server!: Server;
  url = '';
  /** Teams members by channel user ID (29:…), as TeamsInfo.getMember returns them. */
  readonly members = new Map<string, { id: string; name: string; aadObjectId?: string; userPrincipalName?: string; email?: string }>();

  static async start(): Promise<FakeConnector> {
    const c = new FakeConnector();
    c.server = createServer((req, res) => void c.handle(req, res));
    await new Promise<void>((resolve) => c.server.listen(0, '127.0.0.1', resolve));
    c.url = `http://127.0.0.1:${(c.server.address() as AddressInfo).port}`;
    return c;
  }

  fail(rule: FailureRule): void {
    this.rules.push({ ...rule });
  }

  /** Disarms every failure rule still pending. */
  clearFailures(): void {
    this.rules.length = 0;
  }

  /** Messages in a conversation, in the order they were first posted. */
  chat(conversationId: string): ChatMessage[] {
    return [...this.messages.values()].filter((m) => m.conversationId === conversationId);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    // TeamsInfo.getMember: GET /v3/conversations/{id}/members/{userId}, answered for members a test registered.
    const member = /^\/v3\/conversations\/[^/]+\/members\/([^/]+)$/.exec(url.pathname);
    if (member && req.method === 'GET') {
      const found = this.members.get(decodeURIComponent(member[1]!));
      return found ? send(res, 200, found) : send(res, 404, { error: { code: 'MemberNotFound', message: 'no such member' } });
    }
    if (url.pathname === '/v3/conversations' && req.method === 'POST') return this.create(res, body);
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(url.pathname);
    const method = req.method as 'POST' | 'PUT';
    if (!m || (method !== 'POST' && method !== 'PUT') || (method === 'PUT' && !m[2])) {
      return send(res, 404, { error: { code: 'NotFound', message: `${req.method} ${url.pathname} is not part of this fake` } });
    }
    const conversationId = decodeURIComponent(m[1]!);
    const pathId = m[2] ? decodeURIComponent(m[2]) : undefined;
    const activity = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
    const kind = method === 'PUT' ? 'update' : pathId ? 'reply' : 'send';
    const rule = this.rules.find((r) => r.method === method && r.times > 0 && r.path !== 'conversations');
    if (rule) {
      rule.times -= 1;
      this.calls.push({ method, kind, conversationId, activityId: pathId ?? '', activity, at: Date.now(), status: rule.status });
      if (rule.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(rule.retryAfterSeconds));
      return send(res, rule.status, { error: { code: rule.status === 429 ? 'Throttled' : 'ServiceError', message: 'injected by the test' } });
    }
    let activityId: string;
    if (kind === 'update') {
      activityId = pathId!;
      const msg = this.messages.get(activityId);
      if (!msg || msg.conversationId !== conversationId) {
        this.calls.push({ method, kind, conversationId, activityId, activity, at: Date.now(), status: 404 });
        return send(res, 404, { error: { code: 'ActivityNotFound', message: 'no such activity' } });
      }
      msg.activity = activity;
      msg.versions.push(activity);
      msg.updatedAt = Date.now();
    } else {
      activityId = `msg-${++this.seq}`;
      this.messages.set(activityId, { activityId, conversationId, activity, versions: [activity], updatedAt: Date.now() });
    }
    this.calls.push({ method, kind, conversationId, activityId, activity, at: Date.now(), status: 200 });
    send(res, 200, { id: activityId });
  }

  /**
   * POST /v3/conversations: a new conversation, or in Teams with `isGroup` and
   * `channelData.channel.id`, a new post in that channel. Answered `{ id, activityId }`, the id being
   * the post's thread (`<channel>;messageid=<activity>`); its activity lands in `chat(<channel>)`.
   */
  private create(res: ServerResponse, body: string): void {
    const parameters = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
    const channelId = (parameters.channelData as { channel?: { id?: string } } | undefined)?.channel?.id;
    const activity = (parameters.activity ?? {}) as Record<string, unknown>;
    const rule = this.rules.find((r) => r.method === 'POST' && r.times > 0 && r.path !== 'activities');
    if (rule) {
      rule.times -= 1;
      this.calls.push({ method: 'POST', kind: 'create', conversationId: channelId ?? '', activityId: '', activity, at: Date.now(), status: rule.status });
      if (rule.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(rule.retryAfterSeconds));
      return send(res, rule.status, { error: { code: rule.status === 429 ? 'Throttled' : rule.status === 403 ? 'BotNotInConversationRoster' : 'ServiceError', message: 'injected by the test' } });
    }
    if (parameters.isGroup !== true || !channelId) {
      this.calls.push({ method: 'POST', kind: 'create', conversationId: '', activityId: '', activity, at: Date.now(), status: 400 });
      return send(res, 400, { error: { code: 'BadSyntax', message: 'this fake creates channel posts only: isGroup true and channelData.channel.id' } });
    }
    const activityId = String(1_700_000_000_000 + ++this.seq);
    const conversationId = `${channelId};messageid=${activityId}`;
    this.created.push({ parameters, channelId, conversationId, activityId });
    this.messages.set(activityId, { activityId, conversationId: channelId, activity, versions: [activity], updatedAt: Date.now() });
    this.calls.push({ method: 'POST', kind: 'create', conversationId: channelId, activityId, activity, at: Date.now(), status: 201 });
    send(res, 201, { id: conversationId, activityId });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
