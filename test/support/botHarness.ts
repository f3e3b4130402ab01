import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AppConfig } from '../../src/config';
import { startFileFerry, type AppOverrides, type RunningApp } from '../../src/index';
import { createLogger } from '../../src/log';
import { actionsOf, cardOf, inputValues, type FoundAction } from './cardQuery';
import { FakeConnector, type ChatMessage } from './fakeConnector';
import { tempDir } from './tmp';

export interface HarnessOptions {
  /** Changes to the default test config (local mode, temp data folder, port 0). */
  config?: Partial<AppConfig>;
  overrides?: AppOverrides;
  /** Fills `<data>/sources` before the bot starts. */
  seed?: (sourcesDir: string) => Promise<void>;
}

/**
 * The real FileFerry server (the composition root with a config object) on a free port, and a
 * FakeConnector as the channel's service URL. Activities are POSTed to /api/messages as Teams
 * sends them; replies and card updates land in the connector. Log lines are kept in `logLines`.
 */
export class BotHarness {
  readonly logLines: string[] = [];
  private constructor(
    readonly app: RunningApp,
    readonly connector: FakeConnector,
    readonly dataDir: string,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<BotHarness> {
    const dir = await tempDir('bot');
    const connector = await FakeConnector.start();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        if (lines.length > 20_000) lines.splice(0, lines.length - 20_000);
        cb();
      },
    });
    const config: AppConfig = {
      port: 0,
      nodeEnv: 'test',
      production: false,
      localMode: true,
      bot: { appType: 'MultiTenant' },
      dataDir: dir.path,
      sourcesDir: join(dir.path, 'sources'),
      publicUrl: 'http://localhost:0',
      destinations: [{ name: 'Local outbox', spec: { protocol: 'local', root: join(dir.path, 'outbox'), folder: '/', label: 'Local outbox' } }],
      ticketing: { kind: 'local' },
      store: { kind: 'sqlite' },
      signIn: {},
      notifier: { kind: 'log' },
      assignmentGroups: ['DataOps', 'DevOps', 'Infrastructure'],
      allowAdHoc: true,
      allowPlainFtp: false,
      autoLogoutSeconds: 10,
      browseIdleSeconds: 300,
      logLevel: 'debug',
      ...options.config,
    };
    await mkdir(config.sourcesDir, { recursive: true });
    if (options.seed) await options.seed(config.sourcesDir);
    const logger = createLogger({ level: config.logLevel, destination: sink });
    let app: RunningApp;
    try {
      app = await startFileFerry(config, { logger, ...options.overrides });
    } catch (e) {
      await connector.stop();
      await dir.remove();
      throw e;
    }
    const harness = new BotHarness(app, connector, dir.path, async () => {
      try {
        await app.close();
      } finally {
        await connector.stop();
        await dir.remove();
      }
    });
    (harness as { logLines: string[] }).logLines = lines;
    return harness;
  }

  /** A Teams user in their own 1:1 chat with the bot. */
  /** `upn`: what Teams' member lookup answers for this user (default: none, as the Emulator). */
  user(name = 'Alice Example', options: { aadObjectId?: string; tenantId?: string; conversationId?: string; upn?: string } = {}): ChatUser {
    const id = `29:${randomUUID()}`;
    const aadObjectId = options.aadObjectId ?? randomUUID();
    if (options.upn) this.connector.members.set(id, { id, name, aadObjectId, userPrincipalName: options.upn, email: options.upn });
    return new ChatUser(this, {
      id,
      name,
      aadObjectId,
      tenantId: options.tenantId ?? 'tenant-0001',
      conversationId: options.conversationId ?? `a:${randomUUID()}`,
    });
  }

  close(): Promise<void> {
    return this.cleanup();
  }
}

export interface InvokeResult {
  status: number;
  body: { statusCode?: number; type?: string; value?: Record<string, unknown> } | undefined;
}

export interface ClickOptions {
  /** Values typed into the card's inputs (the others are sent as shown). */
  inputs?: Record<string, string>;
  /** Pick the action whose data has these values (several buttons share a verb). */
  match?: Record<string, string>;
  /** How the host delivers the click. Default 'invoke' (Teams, Playground). */
  via?: 'invoke' | 'submit';
  /** Click on this message instead of the newest one that has the verb. */
  activityId?: string;
}

/**
 * One user's side of the chat: sends activities as Teams would and reads what the bot shows. Like
 * Teams, a card returned in an invoke response replaces the clicked card on the user's screen at
 * once; a later update from the bot (PUT) replaces it again.
 */
export class ChatUser {
  private seq = 0;
  /** Cards shown from invoke responses: activityId → card and when. */
  private readonly shown = new Map<string, { card: Record<string, unknown>; at: number }>();

  constructor(
    readonly harness: BotHarness,
    readonly account: { id: string; name: string; aadObjectId: string; tenantId: string; conversationId: string },
  ) {}

  get conversationId(): string {
    return this.account.conversationId;
  }

  /** The chat as shown now (each message at its latest content), oldest first. */
  messages(): ChatMessage[] {
    return this.harness.connector.chat(this.conversationId);
  }

  /** Messages holding a card, with the card. */
  cards(): { activityId: string; card: Record<string, unknown>; message: ChatMessage }[] {
    return this.messages().flatMap((m) => {
      const local = this.shown.get(m.activityId);
      const card = local && local.at > m.updatedAt ? local.card : cardOf(m.activity);
      return card ? [{ activityId: m.activityId, card, message: m }] : [];
    });
  }

  /** The newest message whose current card has an action with `verb` (and `match`). */
  findAction(verb: string, match: Record<string, string> = {}, activityId?: string): { activityId: string; card: Record<string, unknown>; action: FoundAction } | undefined {
    const cards = this.cards().filter((c) => !activityId || c.activityId === activityId).reverse();
    for (const c of cards) {
      const action = actionsOf(c.card).find((a) => a.verb === verb && Object.entries(match).every(([k, v]) => a.data[k] === v));
      if (action) return { activityId: c.activityId, card: c.card, action };
    }
    return undefined;
  }

  async say(text: string): Promise<number> {
    return (await this.post({ type: 'message', text })).status;
  }

  /** The conversationUpdate Teams sends when the app is installed in a personal chat. */
  async install(): Promise<number> {
    return (
      await this.post({
        type: 'conversationUpdate',
        membersAdded: [{ id: this.account.id, name: this.account.name, aadObjectId: this.account.aadObjectId }, { id: 'bot-fileferry' }],
      })
    ).status;
  }

  /**
   * Clicks the button with `verb` on the newest card that has it: sends the action's data plus the
   * card's input values (typed ones replacing the shown ones), as an invoke or a submit message.
   */
  async click(verb: string, options: ClickOptions = {}): Promise<InvokeResult> {
    const found = this.findAction(verb, options.match, options.activityId);
    if (!found) throw new Error(`No card in the chat has a "${verb}" action${options.match ? ` matching ${JSON.stringify(options.match)}` : ''}.`);
    const data = { ...inputValues(found.card), ...(options.inputs ?? {}), ...found.action.data };
    const result = await this.send(verb, data, found.activityId, options.via ?? 'invoke');
    const card = result.body?.type === 'application/vnd.microsoft.card.adaptive' ? result.body.value : undefined;
    if (card) this.shown.set(found.activityId, { card, at: Date.now() });
    return result;
  }

  /** Sends an action with exactly `data` (for forged clicks), as if from message `replyToId`. */
  async send(verb: string, data: Record<string, unknown>, replyToId?: string, via: 'invoke' | 'submit' = 'invoke'): Promise<InvokeResult> {
    if (via === 'submit') return this.post({ type: 'message', value: { ...data, verb }, ...(replyToId ? { replyToId } : {}) });
    return this.post({
      type: 'invoke',
      name: 'adaptiveCard/action',
      value: { action: { type: 'Action.Execute', verb, data: { ...data, verb } }, trigger: 'manual' },
      ...(replyToId ? { replyToId } : {}),
    });
  }

  /** POSTs an activity to /api/messages; `headers` replace the defaults (no Authorization in local mode). */
  async post(partial: Record<string, unknown>, headers: Record<string, string> = {}): Promise<InvokeResult> {
    const a = this.account;
    const activity = {
      id: `in-${++this.seq}-${randomUUID().slice(0, 8)}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.harness.connector.url,
      from: { id: a.id, name: a.name, aadObjectId: a.aadObjectId },
      recipient: { id: 'bot-fileferry', name: 'FileFerry' },
      conversation: { id: a.conversationId, conversationType: 'personal', tenantId: a.tenantId },
      channelData: { tenant: { id: a.tenantId } },
      locale: 'en-US',
      ...partial,
    };
    const res = await fetch(`${this.harness.app.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(activity),
    });
    const text = await res.text();
    let body: InvokeResult['body'];
    try {
      body = text ? (JSON.parse(text) as InvokeResult['body']) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  }

  /** Polls the chat until `predicate` holds (or throws after `timeoutMs`, naming `what`). */
  async waitFor<T>(what: string, predicate: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > until) throw new Error(`Timed out waiting for ${what}. Chat now:\n${this.describeChat()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits for a card with `verb` to be in the chat. */
  waitForAction(verb: string, match: Record<string, string> = {}, timeoutMs?: number) {
    return this.waitFor(`a card with "${verb}"`, () => this.findAction(verb, match), timeoutMs);
  }

  describeChat(): string {
    return this.messages()
      .map((m) => {
        const card = cardOf(m.activity);
        const verbs = card ? actionsOf(card).map((x) => x.verb).join(',') : '';
        return `  ${m.activityId}: ${String(m.activity.text ?? '')} ${card ? `[card: ${verbs}]` : ''} (${m.versions.length} versions)`;
      })
      .join('\n');
  }
}
