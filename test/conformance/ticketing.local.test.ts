import { join } from 'node:path';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { ticketingConformance, type StoredTicket } from './ticketingSuite';
import { tempDir } from '../support/tmp';

describe('LocalTicketing', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;
  const baseUrl = 'http://localhost:3978';

  before(async () => {
    dir = await tempDir('local-tickets');
  });
  after(async () => dir.remove());

  // Local numbers keep no list of assignment groups and hold no credential, so neither
  // `unknownAssignmentGroup` nor `credentials` is given.
  ticketingConformance('local ticket numbers', {
    create: async () => {
      file = join(dir.path, `tickets-${++n}.jsonl`);
      return new LocalTicketing({ file, baseUrl });
    },
    // Past the instance under test: a fresh reader over the JSON-lines file.
    read: async (ticket): Promise<StoredTicket | undefined> => {
      const t = await new LocalTicketing({ file, baseUrl }).get(ticket.number);
      return t && { number: t.number, text: `${t.summary}\n${t.description}`, notes: t.notes.map((x) => x.text), state: t.state, correlationId: t.requestId };
    },
    reopen: async () => new LocalTicketing({ file, baseUrl }),
  });
});
