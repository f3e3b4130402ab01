import { Channels, type CloudAdapter, type ConversationParameters } from 'botbuilder';
import { NotifyError, isNetworkErrno } from '../domain/errors';
import type { ChannelPost } from '../ports/notifier';
import type { ChannelInstalls } from './channelInstalls';
import { statusOf } from './progressReporter';

const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
const INSTALL_HINT = 'Add FileFerry to the audit team (Teams: Apps → FileFerry → Add to a team, pick the channel); see the README, "Teams channel notifications".';

/**
 * The bot's side of the `teams-channel` notifier: a new post in a team channel, created as
 * `TeamsInfo.sendMessageToTeamsChannel` does (POST /v3/conversations with isGroup and the
 * channel's ID), but straight through CloudAdapter.createConversationAsync, which also works in
 * local mode where the bot has no app ID. The route (service URL, tenant) is the one Teams gave
 * when the app was installed in the team.
 */
export class ChannelPoster {
  constructor(
    private readonly adapter: CloudAdapter,
    /** The bot's app ID; empty in local mode. */
    private readonly appId: string,
    private readonly installs: ChannelInstalls,
  ) {}

  readonly post: ChannelPost = async (card, { channelId }) => {
    let target;
    try {
      target = await this.installs.pick(channelId);
    } catch (e) {
      throw new NotifyError('SERVER_ERROR', 'The store of team installs could not be read to find the audit channel.', { hint: 'Check FILEFERRY_STORE; it is tried again.', retryable: true, cause: e });
    }
    if (!target) {
      throw new NotifyError('NOT_FOUND', 'FileFerry has not been added to any team yet, so it has no channel to post audit notifications in.', { hint: INSTALL_HINT });
    }
    const where = `the channel ${target.channelId}${target.teamName ? ` of the team ${target.teamName}` : ''}`;
    const parameters: ConversationParameters = {
      isGroup: true,
      bot: { id: target.botId, name: 'FileFerry' },
      members: [],
      topicName: '',
      channelData: { channel: { id: target.channelId }, ...(target.tenantId ? { tenant: { id: target.tenantId } } : {}) },
      ...(target.tenantId ? { tenantId: target.tenantId } : {}),
      activity: { type: 'message', attachments: [{ contentType: CARD_CONTENT_TYPE, content: card }] } as ConversationParameters['activity'],
    };
    try {
      // A null audience makes the connector use the channel's own OAuth scope, as TeamsInfo does
      // (the typings say string; an empty string would become the audience).
      await this.adapter.createConversationAsync(this.appId, Channels.Msteams, target.serviceUrl, null as unknown as string, parameters, async () => undefined);
    } catch (e) {
      throw failureOf(e, where);
    }
  };
}

function failureOf(e: unknown, where: string): NotifyError {
  const status = statusOf(e);
  if (status === 403) return new NotifyError('ACCESS_DENIED', `Teams refused FileFerry's post in ${where} (HTTP 403).`, { hint: `FileFerry was removed from the team or may not post there. ${INSTALL_HINT}` });
  if (status === 404) return new NotifyError('NOT_FOUND', `Teams does not know ${where} (HTTP 404).`, { hint: 'Check FILEFERRY_AUDIT_CHANNEL_ID (a 19:…@thread.tacv2 ID of a channel in a team FileFerry is in), or unset it to use the channel FileFerry was added to.' });
  if (status === 401) return new NotifyError('AUTH_FAILED', `The Bot Connector refused FileFerry's credentials while posting in ${where} (HTTP 401).`, { hint: 'Check MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId.' });
  if (status === 429) return new NotifyError('THROTTLED', `Teams throttled FileFerry's post in ${where} (HTTP 429).`, { hint: 'It is tried again after a pause.' });
  if (status !== undefined && status >= 500) return new NotifyError('SERVER_ERROR', `The Bot Connector failed while posting in ${where} (HTTP ${status}).`, { hint: 'It is tried again after a pause.' });
  if (status !== undefined) return new NotifyError('INVALID_CONFIG', `Teams refused FileFerry's post in ${where} (HTTP ${status}).`, { hint: 'Report this with the request ID; the card was refused.' });
  if (isNetworkErrno(e) || isNetworkErrno((e as { cause?: unknown })?.cause)) return new NotifyError('NETWORK', `Could not reach the Bot Connector to post in ${where}.`, { hint: 'It is tried again after a pause; check the outbound network.' });
  return new NotifyError('INTERNAL', `Posting in ${where} failed unexpectedly (${(e as Error)?.name ?? 'error'}).`, { hint: 'Report this; the log has the request ID.' });
}
