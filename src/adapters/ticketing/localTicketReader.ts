import type { TicketReader, TicketReading } from '../../ports/ticketing';
import type { LocalTicketing } from './localTicketing';

/**
 * Local tickets read back for `audit verify --against-tickets`: the ticket file the bot writes
 * (`<data dir>/tickets.jsonl`). A close is kept there as the note `resolved: <text>` or
 * `failed: <text>`; its text is the closing note.
 */
export class LocalTicketReader implements TicketReader {
  constructor(private readonly tickets: Pick<LocalTicketing, 'get'>) {}

  async readTicket(number: string): Promise<TicketReading | undefined> {
    const ticket = await this.tickets.get(number);
    if (!ticket) return undefined;
    const prefix = `${ticket.state}: `;
    const close = ticket.state === 'open' ? undefined : [...ticket.notes].reverse().find((n) => n.text.startsWith(prefix));
    return { number: ticket.number, requestId: ticket.requestId, state: ticket.state, closeNotes: close ? close.text.slice(prefix.length) : '' };
  }
}
