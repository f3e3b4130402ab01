import type { AuditReader } from '../ports/auditLog';
import type { TicketReader } from '../ports/ticketing';
import { quotedHead } from '../workflow/chainHeadNote';

/** What can be wrong between the audit store and the tickets. */
export type TicketProblemKind = 'missing' | 'other-request' | 'unsealed' | 'rewritten' | 'removed';

export interface TicketProblem {
  requestId: string;
  ticket: string;
  problem: TicketProblemKind;
  /** One sentence naming the ticket, the record and what differs. */
  message: string;
}

export interface TicketVerdict {
  /** Requests the audit log says got tickets (`request.submitted`). */
  requests: number;
  /** Tickets found in the ticketing system. */
  found: number;
  /** Audit tickets whose closing note quotes a chain head that matches the chain. */
  sealed: number;
  /** Audit tickets still open (a request in progress, or a failure that may still be retried). */
  open: number;
  problems: TicketProblem[];
}

interface Quoted {
  requestId: string;
  ticket: string;
  chain: string;
  seq: number;
  hash: string;
}

/**
 * Checks the audit log against the ticketing system, a second system its owner does not
 * control: every request the log says got tickets has both of them, raised for that request, and
 * each closed audit ticket's closing note quotes a chain head (seq and SHA-256, written when the
 * request ended) that is the hash the chain holds at that seq. A store rewritten from the start
 * (every hash recomputed, so `audit verify` alone passes) disagrees with those quotes; a store cut
 * short lacks the quoted records. Two passes over the log, so memory holds only the requests and
 * quotes, never the records. Ticketing errors propagate (TicketingError).
 */
export async function checkAgainstTickets(reader: AuditReader, tickets: TicketReader, signal?: AbortSignal): Promise<TicketVerdict> {
  const pairs = new Map<string, { user: string; audit: string }>();
  for await (const record of reader.read()) {
    const { userTicket, auditTicket } = record.details ?? {};
    if (record.type === 'request.submitted' && record.requestId && typeof userTicket === 'string' && typeof auditTicket === 'string') {
      pairs.set(record.requestId, { user: userTicket, audit: auditTicket });
    }
  }

  const verdict: TicketVerdict = { requests: pairs.size, found: 0, sealed: 0, open: 0, problems: [] };
  const quoted = new Map<string, Quoted[]>();
  for (const [requestId, pair] of pairs) {
    for (const [kind, number] of [['request', pair.user], ['audit', pair.audit]] as const) {
      const ticket = await tickets.readTicket(number, signal);
      const problem = (p: TicketProblemKind, message: string): void => void verdict.problems.push({ requestId, ticket: number, problem: p, message });
      if (!ticket) {
        problem('missing', `The ${kind} ticket ${number} of ${requestId} is not in the ticketing system: it was deleted, or the audit record names a ticket that never existed.`);
        continue;
      }
      verdict.found++;
      if (ticket.requestId !== undefined && ticket.requestId !== requestId) {
        problem('other-request', `The ${kind} ticket ${number} belongs to ${ticket.requestId}, not to ${requestId} as the audit log says.`);
        continue;
      }
      if (kind !== 'audit') continue;
      if (!ticket.closeNotes) {
        verdict.open++;
        continue;
      }
      const head = quotedHead(ticket.closeNotes);
      if (!head) {
        problem('unsealed', `The audit ticket ${number} of ${requestId} was closed without the audit chain head in its closing note, so this request cannot be checked against it.`);
        continue;
      }
      const quote: Quoted = { requestId, ticket: number, ...head };
      const key = `${quote.chain}\u0000${quote.seq}`;
      quoted.set(key, [...(quoted.get(key) ?? []), quote]);
    }
  }

  if (quoted.size > 0) {
    for await (const record of reader.read()) {
      const key = `${record.chain}\u0000${record.seq}`;
      const quotes = quoted.get(key);
      if (!quotes) continue;
      quoted.delete(key);
      for (const q of quotes) {
        if (q.hash === record.hash) verdict.sealed++;
        else {
          verdict.problems.push({
            requestId: q.requestId, ticket: q.ticket, problem: 'rewritten',
            message: `Record ${q.seq} of chain ${q.chain} has the hash ${record.hash}, but the audit ticket ${q.ticket} of ${q.requestId} quotes ${q.hash}: the audit store was rewritten after ${q.requestId} ended.`,
          });
        }
      }
    }
    for (const q of [...quoted.values()].flat()) {
      verdict.problems.push({
        requestId: q.requestId, ticket: q.ticket, problem: 'removed',
        message: `The audit ticket ${q.ticket} of ${q.requestId} quotes record ${q.seq} of chain ${q.chain}, which the audit store does not have: records were removed.`,
      });
    }
  }
  return verdict;
}
