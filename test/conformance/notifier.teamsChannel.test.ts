import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { TeamsChannelNotifier } from '../../src/adapters/notifier/teamsChannelNotifier';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { ChannelInstalls } from '../../src/bot/channelInstalls';
import { ChannelPoster } from '../../src/bot/channelPoster';
import { FakeConnector } from '../support/fakeConnector';
import { messageOfCard } from '../support/fakeWorkflowWebhook';
import { notifierConformance } from './notifierSuite';

const CHANNEL = '19:audit0channel0for0conformance@thread.tacv2';

describe('TeamsChannelNotifier', () => {
  let connector: FakeConnector;
  let posted = 0;

  before(async () => {
    connector = await FakeConnector.start();
  });
  after(async () => connector?.stop());

  /** The bot's real posting path (CloudAdapter, no app ID as in local mode) into the fake connector, after an install was seen. */
  async function notifierOver(installed: boolean): Promise<TeamsChannelNotifier> {
    const installs = new ChannelInstalls(new MemoryDocuments());
    if (installed) {
      await installs.remember({ teamId: CHANNEL, teamName: 'Audit', channelId: CHANNEL, serviceUrl: connector.url, tenantId: 'tenant-0001', botId: '28:fileferry', installedAt: new Date().toISOString() });
    }
    const poster = new ChannelPoster(new CloudAdapter(new ConfigurationBotFrameworkAuthentication({})), '', installs);
    return new TeamsChannelNotifier({ post: poster.post, baseDelayMs: 5, maxDelayMs: 20 });
  }

  notifierConformance('Teams channel through the Bot Connector', {
    create: async () => {
      connector.clearFailures();
      posted = connector.created.length;
      return notifierOver(true);
    },
    delivered: async () =>
      connector.created.slice(posted).map((c) => {
        const attachments = (c.parameters.activity as { attachments: { content: Record<string, unknown> }[] }).attachments;
        return messageOfCard(attachments[0]!.content);
      }),
    // The app was removed from the team: Teams answers 403 to every post.
    broken: async () => {
      connector.fail({ method: 'POST', path: 'conversations', status: 403, times: 1_000 });
      return notifierOver(true);
    },
  });
});
