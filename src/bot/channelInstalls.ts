import type { DocumentStore } from '../ports/documentStore';
import type { TeamsChannelTarget } from './channelScope';

/** The DocumentStore collection of channel installs, one document per channel ID. */
export const CHANNEL_INSTALLS = 'teamsChannels';

/**
 * The team channels FileFerry is installed in, kept in the DocumentStore so the audit channel
 * survives a restart (Teams sends the install event once). Without a store (a deployment whose
 * FILEFERRY_STORE has no documents yet) they live in memory: the app must then be added to the
 * team again after a restart.
 */
export class ChannelInstalls {
  private readonly memory = new Map<string, TeamsChannelTarget>();

  constructor(private readonly documents?: DocumentStore) {}

  get durable(): boolean {
    return !!this.documents;
  }

  async remember(target: TeamsChannelTarget): Promise<void> {
    if (this.documents) await this.documents.put(CHANNEL_INSTALLS, target.channelId, target);
    else this.memory.set(target.channelId, target);
  }

  /** Forgets every channel of a team the app was removed from. */
  async forgetTeam(teamId: string): Promise<void> {
    for (const t of await this.all()) {
      if (t.teamId !== teamId) continue;
      if (this.documents) await this.documents.delete(CHANNEL_INSTALLS, t.channelId);
      else this.memory.delete(t.channelId);
    }
  }

  /**
   * Where to post: the channel `channelId` names, else the channel the app was last installed in.
   * A configured channel whose own install was never seen (another channel of a team the app is
   * in) is posted to through the latest install's service URL and tenant: creating a channel post
   * needs only those and the channel ID.
   */
  async pick(channelId?: string): Promise<TeamsChannelTarget | undefined> {
    const all = await this.all();
    const latest = all.sort((a, b) => b.installedAt.localeCompare(a.installedAt))[0];
    if (!channelId) return latest;
    const exact = all.find((t) => t.channelId === channelId || t.teamId === channelId);
    if (exact) return { ...exact, channelId };
    if (!latest) return undefined;
    // The team is not known for a channel whose install was not seen: only the route is borrowed.
    const { teamName: _teamName, ...route } = latest;
    return { ...route, teamId: '', channelId };
  }

  private async all(): Promise<TeamsChannelTarget[]> {
    if (!this.documents) return [...this.memory.values()];
    const out: TeamsChannelTarget[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.documents.list<TeamsChannelTarget>(CHANNEL_INSTALLS, { limit: 100, ...(after ? { after } : {}) });
      out.push(...page.map((d) => d.body));
      if (page.length < 100) return out;
      after = page.at(-1)!.id;
    }
  }
}
