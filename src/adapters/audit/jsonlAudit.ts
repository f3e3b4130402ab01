import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError, isFerryError } from '../../domain/errors';
import { DEFAULT_CHAIN, sealAuditRecord, type ChainHead } from '../../domain/auditChain';
import type { AuditEvent, AuditFilter, AuditLog, AuditReader, AuditRecord } from '../../ports/auditLog';

/**
 * An append-only JSON-lines audit file: one hash-chained record per line, written with O_APPEND
 * and fsync'ed before `append` resolves. One process only (appends are serialised in memory, not
 * across processes): it backs FILEFERRY_STORE=memory; the durable stores chain across processes.
 * Details are written as given: the workflow only passes names, sizes, hashes and codes.
 *
 * A torn last line (a crash in the middle of an append) is skipped when reading, and the next
 * append starts on a line of its own, so one lost record never costs the rest of the file or
 * repeats a sequence number.
 */
export class JsonlAudit implements AuditLog, AuditReader {
  private head_?: ChainHead | null;
  /** The file does not end in a newline (a torn append): the next record starts one. */
  private torn = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly options: { chain?: string; key?: Buffer } = {},
  ) {}

  append(event: AuditEvent): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every whole record, oldest first (for tests and the operator). */
  async readAll(): Promise<AuditRecord[]> {
    return parse(await this.text());
  }

  async *read(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    for (const r of await this.readAll()) {
      if (filter.since && r.at < filter.since) continue;
      if (filter.until && r.at >= filter.until) continue;
      if (filter.requestId && r.requestId !== filter.requestId) continue;
      yield r;
    }
  }

  async head(): Promise<ChainHead | undefined> {
    const last = (await this.readAll()).at(-1);
    return last && { seq: last.seq, hash: last.hash };
  }

  private async text(): Promise<string> {
    return readFile(this.file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
  }

  private async write(event: AuditEvent): Promise<AuditRecord> {
    try {
      if (this.head_ === undefined) {
        await mkdir(dirname(this.file), { recursive: true });
        const text = await this.text();
        const last = parse(text).at(-1);
        this.head_ = last ? { seq: last.seq, hash: last.hash } : null;
        this.torn = text.length > 0 && !text.endsWith('\n');
      }
      const record = sealAuditRecord(event, this.head_ ?? undefined, { chain: this.options.chain ?? DEFAULT_CHAIN, at: new Date(), key: this.options.key });
      const handle = await open(this.file, 'a');
      try {
        await handle.appendFile(`${this.torn ? '\n' : ''}${JSON.stringify(record)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.head_ = { seq: record.seq, hash: record.hash };
      this.torn = false;
      return record;
    } catch (e) {
      throw isFerryError(e) ? e : storeError(e, this.file);
    }
  }
}

function parse(text: string): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      // A torn line from a crash mid-append: skipped, the rest stands.
    }
  }
  return records;
}

function storeError(e: unknown, file: string): StoreError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StoreError('DISK_FULL', `The audit file ${file} cannot grow: the disk is full.`, { hint: 'Free space on the data disk.', cause: e });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new StoreError('ACCESS_DENIED', `FileFerry may not write the audit file ${file} (${code}).`, { hint: 'Give the service write access to FILEFERRY_DATA_DIR.', cause: e });
  return new StoreError('INTERNAL', `The audit file ${file} could not be written (${code ?? (e as Error)?.message ?? 'unknown error'}).`, { hint: 'Check FILEFERRY_DATA_DIR; the log has the detail.', cause: e });
}
