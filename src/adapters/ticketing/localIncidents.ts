import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TicketingError } from '../../domain/errors';
import type { IncidentRef, Incidents, NewIncident } from '../../ports/incidents';

interface IncidentLine {
  number: string;
  correlationId: string;
  summary: string;
  description: string;
  priority: string;
  openedAt: string;
}

/**
 * The embedded incident desk: one JSON line per incident in `<data dir>/incidents.jsonl`, numbered
 * INC0000001…; asking again for a correlation ID returns the incident already opened for it.
 * Calls in one process are serialised, so two failures at once never share a number.
 */
export class LocalIncidents implements Incidents {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  open(incident: NewIncident): Promise<IncidentRef> {
    const next = this.chain.then(() => this.openNow(incident));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Every incident opened so far (tests and the operator's eyes). */
  async all(): Promise<IncidentLine[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TicketingError('INTERNAL', `Cannot read ${this.file} (${(e as NodeJS.ErrnoException).code}).`, { hint: 'Check the data folder\'s permissions.' });
    }
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as IncidentLine);
  }

  private async openNow(incident: NewIncident): Promise<IncidentRef> {
    const lines = await this.all();
    const known = lines.find((l) => l.correlationId === incident.correlationId);
    if (known) return { number: known.number };
    const line: IncidentLine = {
      number: `INC${String(lines.length + 1).padStart(7, '0')}`,
      correlationId: incident.correlationId,
      summary: incident.summary,
      description: incident.description,
      priority: incident.priority ?? '3',
      openedAt: new Date().toISOString(),
    };
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await appendFile(this.file, JSON.stringify(line) + '\n');
    } catch (e) {
      throw new TicketingError('INTERNAL', `Cannot write ${this.file} (${(e as NodeJS.ErrnoException).code}).`, { hint: 'Check the data folder\'s free space and permissions.' });
    }
    return { number: line.number };
  }
}
