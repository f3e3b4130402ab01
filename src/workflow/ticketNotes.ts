import type { RequestRecord } from '../domain/requestRecord';
import type { Ticketing } from '../ports/ticketing';
import type { WorkflowLog } from '../ports/workflowLog';

/**
 * Milestone work notes on both tickets of a request, written in the background and in order per
 * request, so a slow ticketing system never slows a card action or a transfer. `settled` lets
 * the end of a request wait for the notes before it, so a ticket's journal reads in order. A note
 * that cannot be written is logged (the ticketing system's outage never fails the request).
 */
export class TicketNotes {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly ticketing: Ticketing,
    private readonly log: WorkflowLog,
  ) {}

  add(record: RequestRecord, note: string): void {
    const tickets = record.tickets;
    if (!tickets) return;
    const id = record.id;
    const next = (this.chains.get(id) ?? Promise.resolve()).then(async () => {
      try {
        await this.ticketing.addWorkNote(tickets.user, note);
        await this.ticketing.addWorkNote(tickets.audit, note);
      } catch (e) {
        this.log.error({ requestId: id, error: (e as Error)?.message ?? String(e) }, 'could not add a ticket work note');
      }
    });
    this.chains.set(id, next);
    void next.then(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  /** Resolves once every note added for the request so far is written (or given up). */
  settled(requestId: string): Promise<void> {
    return this.chains.get(requestId) ?? Promise.resolve();
  }
}
