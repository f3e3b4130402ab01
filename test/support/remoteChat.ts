import { randomUUID } from 'node:crypto';
import { ChatUser, type BotHarness } from './botHarness';
import type { FakeConnector } from './fakeConnector';

/**
 * A chat with a bot that runs in another process (see botProcess.ts): the FakeConnector runs in
 * the test process, as the activities' serviceUrl, and `url()` says where the bot listens now, so
 * the same user (same IDs, same conversation, same chat history) goes on talking to the bot that
 * replaced a killed one.
 */
export interface RemoteBot {
  connector: FakeConnector;
  /** The running bot's base URL (http://127.0.0.1:<port>). */
  url(): string;
}

/**
 * A ChatUser whose activities go to `bot.url()`. ChatUser (botHarness.ts) reads only its harness's
 * `connector` and `app.url`, so a remote bot stands in for the in-process harness here.
 */
export function remoteUser(bot: RemoteBot, name = 'Alice Example', options: { aadObjectId?: string; tenantId?: string; conversationId?: string } = {}): ChatUser {
  const harness = {
    connector: bot.connector,
    get app() {
      return { url: bot.url() };
    },
  };
  return new ChatUser(harness as unknown as BotHarness, {
    id: `29:${randomUUID()}`,
    name,
    aadObjectId: options.aadObjectId ?? randomUUID(),
    tenantId: options.tenantId ?? 'tenant-0001',
    conversationId: options.conversationId ?? `a:${randomUUID()}`,
  });
}
