/** A ticket as people see it: its number and a link that opens it. */
export interface TicketRef {
  number: string;
  url: string;
}

/** The requester's tracking ticket and the audit team's compliance ticket, cross-referenced. */
export interface TicketPair {
  user: TicketRef;
  audit: TicketRef;
}
