import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import type { AuditRecord } from '../../src/ports/auditLog';
import { auditLogConformance, type AuditTamper } from './auditLogSuite';
import { tempDir } from '../support/tmp';

describe('JsonlAudit', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;

  before(async () => {
    dir = await tempDir('jsonl-audit');
  });
  after(async () => dir.remove());

  // Past the adapter: the file itself, one JSON record per line.
  const lines = async (): Promise<string[]> => {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    return text.split('\n').filter((line) => line !== '');
  };
  const save = (edited: string[]): Promise<void> => writeFile(file, edited.map((l) => `${l}\n`).join(''));
  /** The line index of the record whose `seq` is `seq`. */
  const lineOf = (all: string[], seq: number): number => {
    const i = all.findIndex((l) => (JSON.parse(l) as AuditRecord).seq === seq);
    if (i < 0) throw new Error(`no record ${seq} in ${file}`);
    return i;
  };

  // An editor with write access to the file: edits lines, keeps the rest byte for byte.
  const tamper: AuditTamper = {
    alter: async (seq, mutate) => {
      const all = await lines();
      const i = lineOf(all, seq);
      const record = JSON.parse(all[i]!) as AuditRecord;
      mutate(record);
      all[i] = JSON.stringify(record);
      await save(all);
    },
    remove: async (seq) => {
      const all = await lines();
      all.splice(lineOf(all, seq), 1);
      await save(all);
    },
    insert: async (afterSeq, record) => {
      const all = await lines();
      all.splice(lineOf(all, afterSeq) + 1, 0, JSON.stringify(record));
      await save(all);
    },
    swap: async (seqA, seqB) => {
      const all = await lines();
      const [a, b] = [lineOf(all, seqA), lineOf(all, seqB)];
      [all[a], all[b]] = [all[b]!, all[a]!];
      await save(all);
    },
  };

  const fresh = (): string => (file = join(dir.path, `audit-${++n}`, 'audit.jsonl'));

  auditLogConformance('JSON-lines file', {
    create: async () => new JsonlAudit(fresh()),
    createKeyed: async (key) => new JsonlAudit(fresh(), { key }),
    readAll: async (): Promise<AuditRecord[]> => (await lines()).map((line) => JSON.parse(line) as AuditRecord),
    reopen: async () => new JsonlAudit(file),
    // A folder that cannot be created: its parent is a regular file.
    unwritable: async () => {
      const blocker = join(dir.path, `not-a-folder-${++n}`);
      await writeFile(blocker, 'x');
      return new JsonlAudit(join(blocker, 'audit.jsonl'));
    },
    tamper,
  });
});
