import type { Activity } from 'botbuilder';
import type { Actor } from '../domain/requestRecord';

/**
 * Who sent the activity, as the workflow authorises it: the Entra object ID (`from.aadObjectId`,
 * which Teams always sends and the user cannot choose), or the channel's `from.id` in local mode
 * (Emulator, Playground). Tenant from the conversation or Teams channel data. Undefined when the
 * user cannot be identified (a channel activity without an object ID outside local mode).
 */
export function actorOf(activity: Partial<Activity>, localMode: boolean): Actor | undefined {
  const from = activity.from;
  if (!from?.id) return undefined;
  const userId = from.aadObjectId || (localMode ? from.id : undefined);
  if (!userId) return undefined;
  const channelTenant = (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
  const tenantId = activity.conversation?.tenantId || channelTenant || undefined;
  return { userId, tenantId, name: from.name || 'you' };
}
