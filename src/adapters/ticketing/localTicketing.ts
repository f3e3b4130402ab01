import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TicketingError } from '../../domain/errors';
import type { NewTicketPair, TicketPair, TicketRef, Ticketing } from '../../ports/ticketing';

export interface LocalTicket {
  number: string;
  kind: 'request' | 'audit';
  requestId: string;
  /** The other ticket of the pair. */
  related: string;
  summary: string;
  description: string;
  assignmentGroup: string;
  priority: string;
  state: 'open' | 'resolved' | 'failed';
  notes: { at: string; text: string }[];
  openedAt: string;
}

type Line = { op: 'open'; ticket: LocalTicket } | { op: 'note'; number: string; at: string; text: string } | { op: 'close'; number: string; at: string; state: 'resolved' | 'failed'; text: string };

const FIRST = 1001;

/**
 * Local ticket numbers (REQ0001001 for the requester, AUD0001001 for the audit team) with links to
 * this server's /tickets/<number> page. Every change is appended to a JSON-lines file, so numbers
 * keep counting up across restarts and the history stays readable. ServiceNow implements the same
 * port in a later issue.
 */
export class LocalTicketing implements Ticketing {
  private readonly tickets = new Map<string, LocalTicket>();
  private next = FIRST;
  private loaded?: Promise<void>;

  /** `baseUrl` may be a function: the server's port is known only once it listens. */
  constructor(private readonly options: { file: string; baseUrl: string | (() => string) }) {}

  async createPair(input: NewTicketPair): Promise<TicketPair> {
    await this.load();
    const n = String(this.next++).padStart(7, '0');
    const user = `REQ${n}`;
    const audit = `AUD${n}`;
    const openedAt = new Date().toISOString();
    const common = { requestId: input.requestId, assignmentGroup: input.assignmentGroup, priority: input.priority, state: 'open' as const, notes: [], openedAt };
    const tickets: LocalTicket[] = [
      { ...common, number: user, kind: 'request', related: audit, summary: input.summary, description: `${input.description}\nAudit ticket: ${audit}` },
      { ...common, number: audit, kind: 'audit', related: user, summary: `Audit: ${input.summary}`, description: `${input.description}\nRequest ticket: ${user}` },
    ];
    for (const ticket of tickets) await this.write({ op: 'open', ticket });
    return { user: this.ref(user), audit: this.ref(audit) };
  }

  async addWorkNote(ticket: TicketRef, note: string): Promise<void> {
    await this.write({ op: 'note', number: (await this.known(ticket)).number, at: new Date().toISOString(), text: note });
  }

  async resolve(ticket: TicketRef, note: string): Promise<void> {
    await this.write({ op: 'close', number: (await this.known(ticket)).number, at: new Date().toISOString(), state: 'resolved', text: note });
  }

  async fail(ticket: TicketRef, note: string): Promise<void> {
    await this.write({ op: 'close', number: (await this.known(ticket)).number, at: new Date().toISOString(), state: 'failed', text: note });
  }

  /** A ticket for the local ticket page, or undefined. */
  async get(number: string): Promise<LocalTicket | undefined> {
    await this.load();
    const t = this.tickets.get(number);
    return t && structuredClone(t);
  }

  private ref(number: string): TicketRef {
    const base = typeof this.options.baseUrl === 'function' ? this.options.baseUrl() : this.options.baseUrl;
    return { number, url: `${base}/tickets/${number}` };
  }

  /** The ticket, after the file is read (a fresh instance after a restart knows every earlier ticket). */
  private async known(ticket: TicketRef): Promise<LocalTicket> {
    await this.load();
    const t = this.tickets.get(ticket.number);
    if (!t) throw new TicketingError('NOT_FOUND', `There is no local ticket ${ticket.number}.`, { hint: 'Check the ticket number.' });
    return t;
  }

  private async write(line: Line): Promise<void> {
    await this.load();
    await mkdir(dirname(this.options.file), { recursive: true });
    await appendFile(this.options.file, JSON.stringify(line) + '\n', 'utf8');
    this.apply(line);
  }

  private apply(line: Line): void {
    if (line.op === 'open') {
      this.tickets.set(line.ticket.number, structuredClone(line.ticket));
      const n = Number(line.ticket.number.slice(3));
      if (n >= this.next) this.next = n + 1;
      return;
    }
    const t = this.tickets.get(line.number);
    if (!t) return;
    if (line.op === 'note') t.notes.push({ at: line.at, text: line.text });
    else {
      t.state = line.state;
      t.notes.push({ at: line.at, text: `${line.state}: ${line.text}` });
    }
  }

  private load(): Promise<void> {
    this.loaded ??= readFile(this.options.file, 'utf8').then(
      (text) => {
        for (const raw of text.split('\n')) {
          if (!raw.trim()) continue;
          try {
            this.apply(JSON.parse(raw) as Line);
          } catch {
            // A torn last line (crash mid-append) is skipped; the rest stands.
          }
        }
      },
      (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      },
    );
    return this.loaded;
  }
}
