import type { AuditFilter } from '../ports/auditLog';

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
