import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditEvent, AuditLog, AuditRecord } from '../../ports/auditLog';

/**
 * An append-only JSON-lines audit file: one record per line, numbered, written with O_APPEND and
 * fsync'ed before `append` resolves. It is NOT tamper-evident: the hash-chained, verifiable SQLite
 * audit store (`fileferry audit verify`) comes in a later issue and replaces this as the default.
 * Details are written as given: the workflow only passes names, sizes, hashes and codes.
 */
export class JsonlAudit implements AuditLog {
  private seq?: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  append(event: AuditEvent): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every record, oldest first (for tests and the operator). */
  async readAll(): Promise<AuditRecord[]> {
    const text = await readFile(this.file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditRecord);
  }

  private async write(event: AuditEvent): Promise<AuditRecord> {
    if (this.seq === undefined) {
      await mkdir(dirname(this.file), { recursive: true });
      const existing = await this.readAll().catch(() => []);
      this.seq = existing.at(-1)?.seq ?? 0;
    }
    const record: AuditRecord = { seq: this.seq + 1, at: new Date().toISOString(), ...event };
    const handle = await open(this.file, 'a');
    try {
      await handle.appendFile(JSON.stringify(record) + '\n', 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.seq = record.seq;
    return record;
  }
}
