import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Actor } from '../domain/requestRecord';
import type { Logger } from '../log';

/**
 * The actor with the UPN Teams reports for them (TeamsInfo.getMember: the activity itself carries
 * only the object ID). The sign-in's identity check compares it with who signed in at the
 * provider. A host that cannot answer (the Emulator) leaves it unset, which a real provider
 * treats as a mismatch and the local sign-in ignores.
 */
export async function withUpn(context: TurnContext, actor: Actor, log: Logger): Promise<Actor> {
  try {
    const member = await TeamsInfo.getMember(context, context.activity.from.id);
    const upn = member.userPrincipalName || member.email;
    return upn ? { ...actor, upn } : actor;
  } catch (e) {
    log.debug({ error: (e as Error)?.message ?? String(e) }, 'the Teams member lookup failed; the UPN is unknown');
    return actor;
  }
}
