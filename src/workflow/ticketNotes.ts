import type { RequestRecord } from '../domain/requestRecord';
import type { DocumentStore } from '../ports/documentStore';
import type { Ticketing } from '../ports/ticketing';
import type { WorkflowLog } from '../ports/workflowLog';
import type { AuditTrail } from './auditTrail';
import { SYSTEM } from './workflowContext';
import { TicketOutbox, type OutboxEntry, type OutboxOptions } from './ticketOutbox';

/**
 * Milestone work notes and the closing of both tickets of a request, through a durable outbox
 * (see TicketOutbox): each write is stored first, then sent in the background, in order per
 * request, so neither a slow ticketing system nor an outage ever slows a card action or a
 * transfer, and a restart loses nothing. A write the ticketing system refuses for good is logged
 * and audited (`ticket.write-dropped`) and never blocks the ones behind it.
 */
export class TicketNotes {
  private readonly outbox: TicketOutbox;

  constructor(
    private readonly ticketing: Ticketing,
    documents: DocumentStore,
    audit: AuditTrail,
    private readonly log: WorkflowLog,
    tuning: Pick<OutboxOptions, 'baseDelayMs' | 'maxDelayMs' | 'now'> = {},
  ) {
    this.outbox = new TicketOutbox(documents, {
      ...tuning,
      log,
      deliver: (entry, signal) => this.deliver(entry, signal),
      onDropped: async (entry, error) => {
        const code = (error as { code?: unknown })?.code;
        log.error({ requestId: entry.requestId, ticket: entry.ticket.number, action: entry.action, code, error: (error as Error)?.message ?? String(error) }, 'a ticket write was refused for good and is dropped');
        await audit.record({
          type: 'ticket.write-dropped',
          requestId: entry.requestId,
          actor: SYSTEM.userId,
          details: { ticket: entry.ticket.number, action: entry.action, code: typeof code === 'string' ? code : 'INTERNAL' },
        });
      },
    });
  }

  /** A work note on both tickets, behind every write queued before it. Returns at once. */
  add(record: RequestRecord, note: string): void {
    const t = record.tickets;
    if (!t) return;
    void this.outbox.enqueue(record.id, [
      { ticket: t.user, action: 'note', text: note },
      { ticket: t.audit, action: 'note', text: note },
    ]);
  }

  /**
   * The end of a request on its tickets: the note on both, then (unless 'note') both closed, the
   * audit ticket's closing note being `auditNote` (it carries the audit chain head). Queued behind
   * the milestones, so each journal reads in order. Resolves once queued; never rejects.
   */
  close(record: RequestRecord, how: 'resolve' | 'fail' | 'note', note: string, auditNote = note): Promise<void> {
    const t = record.tickets;
    if (!t) return Promise.resolve();
    return this.outbox.enqueue(record.id, [
      { ticket: t.user, action: 'note', text: note },
      { ticket: t.audit, action: 'note', text: note },
      ...(how === 'note' ? [] : [
        { ticket: t.user, action: how, text: note },
        { ticket: t.audit, action: how, text: auditNote },
      ]),
    ]);
  }

  /**
   * Resolves once every write queued so far for the request is delivered, dropped, or waiting for
   * the ticketing system to come back (then it goes on in the background).
   */
  settled(requestId: string): Promise<void> {
    return this.outbox.settled(requestId);
  }

  /** Resolves once nothing is queued for the request, however long an outage lasts (tests, diagnostics). */
  drained(requestId: string): Promise<void> {
    return this.outbox.drained(requestId);
  }

  /** At start-up: sends what an earlier process left queued. */
  async resume(): Promise<number> {
    const found = await this.outbox.resume();
    if (found) this.log.info({ queued: found }, 'ticket writes queued before the restart are being sent');
    return found;
  }

  /** Shutdown: stops sending; what is still queued is sent by the next start. */
  stop(): Promise<void> {
    return this.outbox.stop();
  }

  private async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    if (entry.action === 'note') await this.ticketing.addWorkNote(entry.ticket, entry.text, signal);
    else await this.ticketing[entry.action](entry.ticket, entry.text, signal);
  }
}
