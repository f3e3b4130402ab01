import type { ActivityHandler, TurnContext } from 'botbuilder';
import { errorFields, type Logger } from '../log';
import type { ChannelInstalls } from './channelInstalls';
import { channelTargetOf, isChannelConversation } from './channelScope';

/**
 * Keeps ChannelInstalls in step with Teams: the app added to a team (a conversationUpdate with the
 * bot among membersAdded, or an installationUpdate "add", in team scope) stores that channel's
 * route; the app removed from it forgets the team's channels. A store failure is logged and never
 * fails the turn (Teams would only resend the event).
 */
export function watchChannelInstalls(bot: ActivityHandler, installs: ChannelInstalls, log: Logger, now: () => Date = () => new Date()): void {
  const remember = async (context: TurnContext): Promise<void> => {
    const target = channelTargetOf(context.activity, now());
    if (!target) {
      log.warn({ conversationType: context.activity.conversation?.conversationType }, 'a team install without team or channel IDs; it cannot be used for notifications');
      return;
    }
    try {
      await installs.remember(target);
      log.info({ teamId: target.teamId, teamName: target.teamName, channelId: target.channelId, durable: installs.durable }, 'FileFerry was added to a team; its channel can take audit notifications');
    } catch (e) {
      log.error({ teamId: target.teamId, channelId: target.channelId, ...errorFields(e) }, 'could not store the team channel FileFerry was added to');
    }
  };
  const forget = async (context: TurnContext): Promise<void> => {
    const teamId = (context.activity.channelData as { team?: { id?: string } } | undefined)?.team?.id;
    if (!teamId) return;
    try {
      await installs.forgetTeam(teamId);
      log.info({ teamId }, 'FileFerry was removed from a team; its channels take no more notifications');
    } catch (e) {
      log.error({ teamId, ...errorFields(e) }, 'could not forget the team FileFerry was removed from');
    }
  };
  const botIn = (context: TurnContext, members: { id?: string }[] | undefined): boolean =>
    isChannelConversation(context.activity) && (members ?? []).some((m) => m.id === context.activity.recipient?.id);

  bot.onMembersAdded(async (context, next) => {
    if (botIn(context, context.activity.membersAdded)) await remember(context);
    await next();
  });
  bot.onMembersRemoved(async (context, next) => {
    if (botIn(context, context.activity.membersRemoved)) await forget(context);
    await next();
  });
  bot.onInstallationUpdateAdd(async (context, next) => {
    if (isChannelConversation(context.activity)) await remember(context);
    await next();
  });
  bot.onInstallationUpdateRemove(async (context, next) => {
    if (isChannelConversation(context.activity)) await forget(context);
    await next();
  });
}
