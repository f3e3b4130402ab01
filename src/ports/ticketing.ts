import type { TicketPair, TicketRef } from '../domain/tickets';

export type { TicketPair, TicketRef } from '../domain/tickets';

export interface NewTicketPair {
  requestId: string;
  requester: { id: string; name: string };
  /** One line: what is asked for. */
  summary: string;
  /** The request form, as plain text (never a credential). */
  description: string;
  assignmentGroup: string;
  /** '1' (critical) … '4' (low), ServiceNow's scale. */
  priority: string;
  environment: string;
}

/**
 * A ticketing system (ServiceNow, or local numbers). `createPair` opens both tickets and writes
 * each one's number into the other, so the audit team can always find the request and back.
 *
 * Methods throw TicketingError with AUTH_FAILED / ACCESS_DENIED (bad integration credentials),
 * INVALID_CONFIG (unknown assignment group), NOT_FOUND (a note or close for a ticket that does
 * not exist), NETWORK / TIMEOUT / THROTTLED / SERVER_ERROR (retryable). Notes are plain text and never carry a secret.
 */
export interface Ticketing {
  createPair(input: NewTicketPair, signal?: AbortSignal): Promise<TicketPair>;
  addWorkNote(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void>;
  /** Closes the ticket as done, with a closing note. */
  resolve(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void>;
  /** Closes the ticket as failed or cancelled, with the reason. */
  fail(ticket: TicketRef, note: string, signal?: AbortSignal): Promise<void>;
}

/** Optional ability: a ticket as plain data by its number (the local ticket page). */
export interface TicketLookup {
  get(number: string): Promise<object | undefined>;
}

export function canLookUpTickets(ticketing: Ticketing): ticketing is Ticketing & TicketLookup {
  return typeof (ticketing as Partial<TicketLookup>).get === 'function';
}

/**
 * A ticket's approval as the ticketing system holds it (ServiceNow's task `approval` field:
 * `not requested`, `requested`, `approved`, `rejected`, …; anything else reads as `other`).
 */
export interface TicketApprovalState {
  state: 'not requested' | 'requested' | 'approved' | 'rejected' | 'cancelled' | 'other';
  /** Who last changed the ticket, as the system names them (ServiceNow's `sys_updated_by`). */
  by?: string;
}

/**
 * Optional ability: approvals that live in the ticketing system itself. `requestApproval` asks for
 * one on the requester's ticket; `approvalOf` reads where it stands (the workflow polls it).
 * Both throw TicketingError like the other methods (retryable codes for outages).
 */
export interface TicketApprovals {
  requestApproval(ticket: TicketRef, signal?: AbortSignal): Promise<void>;
  approvalOf(ticket: TicketRef, signal?: AbortSignal): Promise<TicketApprovalState>;
}

export function canTrackApprovals(ticketing: Ticketing): ticketing is Ticketing & TicketApprovals {
  const t = ticketing as Partial<TicketApprovals>;
  return typeof t.requestApproval === 'function' && typeof t.approvalOf === 'function';
}

/** A ticket read back from the ticketing system: what `audit verify --against-tickets` compares. */
export interface TicketReading {
  number: string;
  /** The FileFerry request it was raised for (ServiceNow's `correlation_id`), when the system keeps it. */
  requestId?: string;
  /** As the system names it: ServiceNow's `state` value ('6', '7' …), or open / resolved / failed locally. */
  state: string;
  /** The closing note; empty while the ticket is open. */
  closeNotes: string;
}

/**
 * Optional ability: a ticket read back by its number, for checks against a second system the
 * audit store's owner does not control. Resolves undefined when there is no such ticket; throws
 * TicketingError like the other methods (AUTH_FAILED, ACCESS_DENIED, retryable outages).
 */
export interface TicketReader {
  readTicket(number: string, signal?: AbortSignal): Promise<TicketReading | undefined>;
}

export function canReadTickets(value: object): value is TicketReader {
  return typeof (value as Partial<TicketReader>).readTicket === 'function';
}
