import type { ApprovalStep } from './approvalStep';
import type { WorkflowContext } from './workflowContext';

/**
 * Reads ServiceNow's `approval` field of every request waiting for a ServiceNow-driven approval,
 * every `intervalMs`, and lets ApprovalStep act on a decision. The waiting requests come from the
 * store each round, so the poll survives a restart and stops by itself for a request that ended
 * (approved, rejected, withdrawn, expired). One round at a time; an outage is logged and the next
 * round tries again.
 */
export class ApprovalPoller {
  private timer?: NodeJS.Timeout;
  private round?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly ctx: WorkflowContext,
    private readonly step: ApprovalStep,
    private readonly intervalMs: number,
  ) {
    this.schedule();
  }

  /** One round now (or the one already running); resolves with how many requests were looked at. */
  pollOnce(): Promise<number> {
    this.round ??= this.poll().finally(() => (this.round = undefined));
    return this.round;
  }

  /** Stops the timer and waits for a round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pollOnce()
        .catch((e: unknown) => this.ctx.log.error({ error: (e as Error)?.message ?? String(e) }, 'the ServiceNow approval poll failed'))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<number> {
    const waiting = await this.ctx.deps.repository.listStale(['awaiting-approval'], new Date(this.ctx.now().getTime() + 1000));
    let looked = 0;
    for (const record of waiting) {
      if (this.stopped) break;
      if (record.approval?.via !== 'servicenow') continue;
      looked++;
      try {
        await this.step.pollServiceNow(record.id);
      } catch (e) {
        this.ctx.log.warn({ requestId: record.id, error: (e as Error)?.message ?? String(e) }, 'could not read the approval from ServiceNow; trying again next round');
      }
    }
    return looked;
  }
}
