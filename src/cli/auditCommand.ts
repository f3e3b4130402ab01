import { once } from 'node:events';
import { buildSecrets, openStores, ticketReaderFor } from '../adapters/registry';
import { loadConfig, type AppConfig } from '../config';
import { verifyAuditChain } from '../domain/auditChain';
import { ConfigError } from '../domain/errors';
import type { AuditReader, AuditRecord } from '../ports/auditLog';
import type { TicketReader } from '../ports/ticketing';
import { checkAgainstTickets, type TicketVerdict } from './auditAgainstTickets';
import type { AuditRequest } from './auditRequest';

/**
 * Runs a parsed request against `reader`, writing to `out`; returns the exit code.
 * - verify: walks the whole chain (checking HMACs when `key` is given) and prints
 *   `Audit chain intact: N records, head seq S hash H` (exit 0) or `record S was <problem>: …`
 *   naming the first broken record (exit 1); `json` prints one object instead. With
 *   `againstTickets` an intact chain is then checked against `tickets` (see
 *   checkAgainstTickets): one line per problem, `request <id>, ticket <n>: …`, and a summary;
 *   exit 1 when there is any problem. In JSON the object gains `tickets`.
 * - export: streams the matching records, in chain order, as JSON lines (each record exactly as
 *   stored) or CSV (see `csvLine`); exit 0. It waits for `out` to drain, so memory stays flat.
 * Store failures propagate as the store's StoreError.
 */
export async function runAudit(reader: AuditReader, request: AuditRequest, io: { out: NodeJS.WritableStream; key?: Buffer; tickets?: TicketReader }): Promise<number> {
  const write = async (text: string): Promise<void> => {
    if (!io.out.write(text)) await once(io.out, 'drain');
  };
  if (request.action === 'export') {
    if (request.format === 'csv') await write(csvLine(CSV_COLUMNS));
    for await (const record of reader.read(request.filter)) await write(request.format === 'csv' ? csvLine(csvFields(record)) : `${JSON.stringify(record)}\n`);
    return 0;
  }
  if (request.againstTickets && !io.tickets) throw new ConfigError('audit verify --against-tickets needs a way to read tickets, and none is configured.', 'Check FILEFERRY_TICKETING and its settings (the same as the bot\'s).');
  const verdict = await verifyAuditChain(reader.read(), io.key);
  const hmac = io.key ? 'checked' : 'not-checked';
  const against = verdict.ok && request.againstTickets && io.tickets ? await checkAgainstTickets(reader, io.tickets) : undefined;
  if (request.json) {
    const tickets = against ? { tickets: against } : {};
    const agrees = !against || against.problems.length === 0;
    await write(`${JSON.stringify(verdict.ok ? { status: agrees ? 'intact' : 'broken', count: verdict.count, head: verdict.head ?? null, hmac, ...tickets } : { status: 'broken', seq: verdict.seq, problem: verdict.problem, message: verdict.message, count: verdict.count, hmac })}\n`);
    return verdict.ok && agrees ? 0 : 1;
  }
  const hmacLine = io.key ? 'HMACs checked with the audit key (FILEFERRY_AUDIT_KEY_REF).\n' : 'HMACs not checked: FILEFERRY_AUDIT_KEY_REF is not set.\n';
  if (verdict.ok) {
    await write(verdict.head ? `Audit chain intact: ${verdict.count} records, head seq ${verdict.head.seq} hash ${verdict.head.hash}\n${hmacLine}` : `Audit chain intact: 0 records (the chain is empty)\n${hmacLine}`);
    return against ? writeTicketVerdict(against, write) : 0;
  }
  // The verifier's sentence often starts by restating the verdict: say it once.
  const detail = verdict.message.replace(new RegExp(`^Record ${verdict.seq} was ${verdict.problem}: `), '');
  await write(`record ${verdict.seq} was ${verdict.problem}: ${detail}\n${verdict.count - 1} records before it verified. ${hmacLine}`);
  await write('Compare with the chain heads quoted in the audit tickets, and restore the store from a backup taken before that record.\n');
  return 1;
}

/** The ticket check's lines (one per problem, then a summary); returns the exit code. */
async function writeTicketVerdict(v: TicketVerdict, write: (text: string) => Promise<void>): Promise<number> {
  for (const p of v.problems) await write(`request ${p.requestId}, ticket ${p.ticket}: ${p.message}\n`);
  await write(`Tickets checked: ${v.requests} requests, ${v.found} tickets found; ${v.sealed} closing notes quote a chain head that matches the chain; ${v.open} audit tickets still open.\n`);
  if (v.problems.length === 0) return 0;
  await write(`${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} against the tickets: compare the store with a backup, and the tickets' history in the ticketing system.\n`);
  return 1;
}

/** The CSV columns: one per top-level field of an AuditRecord, in this order. */
export const CSV_COLUMNS = ['chain', 'seq', 'at', 'type', 'actor', 'requestId', 'details', 'prevHash', 'hash', 'hmac'] as const;

function csvFields(record: AuditRecord): string[] {
  return CSV_COLUMNS.map((column) => {
    const value = record[column];
    if (value === undefined) return '';
    return column === 'details' ? JSON.stringify(value) : String(value);
  });
}

/**
 * One RFC 4180 line, CRLF-terminated: a field holding a comma, a quote, CR or LF is quoted and its
 * quotes doubled; `details` is compact JSON. Values are written as stored (no spreadsheet-formula
 * escaping), so an exported line still matches the record's hash.
 */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')}\r\n`;
}

/**
 * `fileferry audit …` as the bot's environment configures it: the store the registry builds
 * from `loadConfig(env)`, and for verify the HMAC key that FILEFERRY_AUDIT_KEY_REF names (a secret
 * reference; the key is the secret's UTF-8 bytes, as the bot uses it). With `--against-tickets`,
 * the tickets are read through `ticketReader` (the registry's reader for FILEFERRY_TICKETING).
 * Throws ConfigError, SecretsError, StoreError or TicketingError; the stores are closed in every case.
 */
export async function auditCommand(
  request: AuditRequest,
  io: { out: NodeJS.WritableStream; env: NodeJS.ProcessEnv; ticketReader?: (config: AppConfig, env: NodeJS.ProcessEnv) => TicketReader },
): Promise<number> {
  const config = loadConfig(io.env);
  const keyRef = io.env.FILEFERRY_AUDIT_KEY_REF?.trim();
  const key = request.action === 'verify' && keyRef ? Buffer.from(await buildSecrets({ env: io.env }).resolve(keyRef), 'utf8') : undefined;
  const tickets = request.action === 'verify' && request.againstTickets ? (io.ticketReader ?? ticketReaderFor)(config, io.env) : undefined;
  const stores = await openStores(config, io.env);
  try {
    return await runAudit(stores.audit, request, { out: io.out, key, ...(tickets ? { tickets } : {}) });
  } finally {
    await stores.close();
  }
}
