import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import type { AuditRecord } from '../../src/ports/auditLog';
import { auditLogConformance } from './auditLogSuite';
import { tempDir } from '../support/tmp';

describe('JsonlAudit', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let file = '';
  let n = 0;

  before(async () => {
    dir = await tempDir('jsonl-audit');
  });
  after(async () => dir.remove());

  auditLogConformance('JSON-lines file', {
    create: async () => {
      file = join(dir.path, `audit-${++n}`, 'audit.jsonl');
      return new JsonlAudit(file);
    },
    // Past the adapter: the file itself, one JSON record per line.
    readAll: async (): Promise<AuditRecord[]> => {
      const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
      return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AuditRecord);
    },
    reopen: async () => new JsonlAudit(file),
    // A folder that cannot be created: its parent is a regular file.
    unwritable: async () => {
      const blocker = join(dir.path, `not-a-folder-${++n}`);
      await writeFile(blocker, 'x');
      return new JsonlAudit(join(blocker, 'audit.jsonl'));
    },
  });
});
