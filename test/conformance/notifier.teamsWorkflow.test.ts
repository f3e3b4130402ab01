import { TeamsWorkflowNotifier } from '../../src/adapters/notifier/teamsWorkflowNotifier';
import { FakeWorkflowWebhook } from '../support/fakeWorkflowWebhook';
import { notifierConformance } from './notifierSuite';

describe('TeamsWorkflowNotifier', () => {
  let webhook: FakeWorkflowWebhook;

  before(async () => {
    webhook = await FakeWorkflowWebhook.start();
  });
  after(async () => webhook?.stop());

  /** Fast retries: the suite checks the contract, the integration test checks the pauses. */
  const quick = { baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 5_000 };

  notifierConformance('Teams Workflows webhook', {
    create: async () => {
      webhook.reset();
      return new TeamsWorkflowNotifier({ url: async () => webhook.url, ...quick });
    },
    delivered: async () => webhook.messages(),
    // Every POST answers 500, so each notification uses all its attempts and gives up.
    broken: async () => {
      webhook.fail({ status: 500, times: 1_000 });
      return new TeamsWorkflowNotifier({ url: async () => webhook.url, ...quick, attempts: 2 });
    },
    secrets: () => [webhook.url, webhook.sig],
  });
});
