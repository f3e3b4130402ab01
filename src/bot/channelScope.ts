import type { Activity } from 'botbuilder';

/** Where the bot may post into a team's channel: what Teams told it when the app was installed there. */
export interface TeamsChannelTarget {
  teamId: string;
  teamName?: string;
  /** The channel's conversation ID, `19:…@thread.tacv2`. */
  channelId: string;
  serviceUrl: string;
  tenantId?: string;
  /** The bot's channel account ID (28:…), as the install activity's recipient. */
  botId: string;
  /** ISO-8601 UTC. */
  installedAt: string;
}

/** What the bot reads from a team-scoped activity's channelData. */
interface TeamsChannelData {
  team?: { id?: string; name?: string };
  channel?: { id?: string; name?: string };
  tenant?: { id?: string };
}

/** True for an activity from a team's channel (not a 1:1 or group chat). */
export function isChannelConversation(activity: Partial<Activity>): boolean {
  return activity.conversation?.conversationType === 'channel' || !!(activity.channelData as TeamsChannelData | undefined)?.team?.id;
}

/**
 * The channel an install (or any team-scoped) activity came from. In a conversationUpdate the
 * channel may be absent: the conversation ID is then the channel's thread (the General channel),
 * without any `;messageid=` suffix.
 */
export function channelTargetOf(activity: Partial<Activity>, now: Date): TeamsChannelTarget | undefined {
  const data = (activity.channelData ?? {}) as TeamsChannelData;
  const teamId = data.team?.id;
  const channelId = data.channel?.id ?? activity.conversation?.id?.split(';')[0];
  const serviceUrl = activity.serviceUrl;
  const botId = activity.recipient?.id;
  if (!teamId || !channelId || !serviceUrl || !botId) return undefined;
  const tenantId = data.tenant?.id ?? activity.conversation?.tenantId;
  return {
    teamId,
    ...(data.team?.name ? { teamName: data.team.name } : {}),
    channelId,
    serviceUrl,
    ...(tenantId ? { tenantId } : {}),
    botId,
    installedAt: now.toISOString(),
  };
}

/** The reply to a text command typed in a channel: requests are personal (sign-in, file lists). */
export const CHANNEL_TEXT_REPLY =
  'FileFerry posts audit notifications in this channel. Requests are made in a personal chat: open a chat with FileFerry and type "transfer".';
