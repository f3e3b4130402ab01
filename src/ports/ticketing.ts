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
