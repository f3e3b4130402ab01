import { randomBytes } from 'node:crypto';
import { ServiceNowTicketing, type ServiceNowAuthOptions } from '../../src/adapters/ticketing/serviceNowTicketing';
import type { TicketRef } from '../../src/ports/ticketing';
import { FakeServiceNow } from '../support/fakeServiceNow';
import { ticketingConformance, type StoredTicket } from './ticketingSuite';

const USER = 'svc_fileferry';
const CLIENT = 'fileferry-client';
const PASSWORD = `canary-password-${randomBytes(8).toString('hex')}`;
const CLIENT_SECRET = `canary-secret-${randomBytes(8).toString('hex')}`;

/** The tokens the fake issues land here too, so the suite's leak check covers them (it reads the list when the case runs). */
const oauthCredentials: string[] = [PASSWORD, CLIENT_SECRET];

describe('ServiceNowTicketing over the Table API', () => {
  let fake: FakeServiceNow;

  before(async () => {
    fake = await FakeServiceNow.start({
      users: { [USER]: PASSWORD },
      oauthClients: { [CLIENT]: { secret: CLIENT_SECRET, applicationUser: USER } },
      issuedTokens: oauthCredentials,
    });
  });
  after(async () => fake.close());

  /** Past the adapter: the fake's incident table and journal. Resolved is state 6, closed (failed) 7, as configured below. */
  const read = async (ticket: TicketRef): Promise<StoredTicket | undefined> => {
    const row = fake.byNumber(ticket.number);
    if (!row) return undefined;
    const state = row.state === '6' ? 'resolved' : row.state === '7' ? 'failed' : 'open';
    return { number: row.number!, text: `${row.short_description}\n${row.description}`, notes: fake.journal(row.sys_id!), state, correlationId: row.correlation_id };
  };

  const variants: Array<{ name: string; auth: () => ServiceNowAuthOptions; credentials: string[] }> = [
    { name: 'Basic', auth: () => ({ kind: 'basic', username: USER, password: async () => PASSWORD }), credentials: [PASSWORD] },
    {
      name: 'OAuth password grant',
      auth: () => ({ kind: 'oauth', clientId: CLIENT, clientSecret: async () => CLIENT_SECRET, username: USER, password: async () => PASSWORD }),
      credentials: oauthCredentials,
    },
    { name: 'OAuth client credentials', auth: () => ({ kind: 'oauth', clientId: CLIENT, clientSecret: async () => CLIENT_SECRET }), credentials: oauthCredentials },
  ];

  for (const variant of variants) {
    const make = (): ServiceNowTicketing =>
      new ServiceNowTicketing({ instanceUrl: fake.url, auth: variant.auth(), auditGroup: 'Audit', sleep: async () => undefined });
    ticketingConformance(`ServiceNow (${variant.name})`, {
      create: async () => {
        fake.reset();
        return make();
      },
      read,
      // Tickets live in the instance: a new adapter (a restart) finds them by their links.
      reopen: async () => make(),
      unknownAssignmentGroup: 'No Such Group',
      credentials: variant.credentials,
    });
  }
});
