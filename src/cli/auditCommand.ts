import { once } from 'node:events';
import { buildSecrets, openStores, ticketReaderFor } from '../adapters/registry';
import { loadConfig, type AppConfig } from '../config';
import { verifyAuditChain } from '../domain/auditChain';
import { ConfigError } from '../domain/errors';
import type { AuditFilter, AuditReader, AuditRecord } from '../ports/auditLog';
import type { TicketReader } from '../ports/ticketing';
import { checkAgainstTickets, type TicketVerdict } from './auditAgainstTickets';

/** `fileferry audit verify|export`, parsed. */
export type AuditRequest = { action: 'verify'; json: boolean; againstTickets?: boolean } | { action: 'export'; format: 'csv' | 'jsonl'; filter: AuditFilter };

/** The flags `audit` reads, as main.ts's parseArgs gives them. */
export interface AuditFlags {
  json?: boolean;
  since?: string;
  until?: string;
  format?: string;
  request?: string;
  /** `--against-tickets` (verify only). */
  'against-tickets'?: boolean;
}

/**
 * Checks `audit <sub>` and its flags. Returns the request, or `{ usage }`: one sentence saying
 * what is wrong (main.ts prints it with the usage and exits 2). `--since`/`--until` take an ISO
 * 8601 date (UTC midnight) or a date and time with a zone (`Z`, `+02:00`) and are normalised to
 * UTC with milliseconds, the form records' `at` has, so they compare as the stores compare.
 */
export function parseAuditRequest(args: readonly string[], flags: AuditFlags): AuditRequest | { usage: string } {
  const [sub, ...extra] = args;
  if (extra.length > 0 || (sub !== 'verify' && sub !== 'export')) return { usage: 'fileferry audit takes one of: verify, export.' };
  const exportFlags = (['since', 'until', 'format', 'request'] as const).filter((f) => flags[f] !== undefined);
  if (sub === 'verify') {
    if (exportFlags.length > 0) return { usage: `audit verify checks the whole chain; --${exportFlags[0]} is for audit export.` };
    return { action: 'verify', json: flags.json ?? false, ...(flags['against-tickets'] ? { againstTickets: true } : {}) };
  }
  if (flags['against-tickets']) return { usage: '--against-tickets is for audit verify, not audit export.' };
  if (flags.json) return { usage: 'audit export writes the format --format names; use --format jsonl instead of --json.' };
  if (flags.format !== 'csv' && flags.format !== 'jsonl') return { usage: `audit export needs --format csv or --format jsonl${flags.format === undefined ? '' : `, not ${JSON.stringify(flags.format)}`}.` };
  const since = isoInstant('--since', flags.since);
  const until = isoInstant('--until', flags.until);
  if (typeof since !== 'string') return since;
  if (typeof until !== 'string') return until;
  if (since >= until) return { usage: `--since (${since}) must be before --until (${until}).` };
  if (flags.request !== undefined && flags.request.trim() === '') return { usage: '--request needs a request ID, such as FF-0000CAFE.' };
  return { action: 'export', format: flags.format, filter: { since, until, ...(flags.request !== undefined ? { requestId: flags.request.trim() } : {}) } };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function isoInstant(flag: string, value: string | undefined): string | { usage: string } {
  const bad = { usage: `${flag} needs an ISO 8601 date or a date and time with a zone, such as 2031-03-14 or 2031-03-14T09:30:00Z${value === undefined ? '' : `, not ${JSON.stringify(value)}`}.` };
  const m = value === undefined ? null : ISO.exec(value.trim());
  if (!m) return bad;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  const at = new Date(value!.trim());
  // Date rolls 2031-02-30 over into March: a date that does not exist is refused.
  if (Number.isNaN(at.getTime()) || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return bad;
  return at.toISOString();
}

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
