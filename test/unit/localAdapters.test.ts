import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { MemoryRequestRepository } from '../../src/adapters/store/memoryRequestRepository';
import type { RequestRecord } from '../../src/domain/requestRecord';
import { tempDir } from '../support/tmp';

const pair = { requestId: 'FF-AAAAAAAA', requester: { id: 'u1', name: 'Ann' }, summary: 's', description: 'd', assignmentGroup: 'DataOps', priority: '3', environment: 'DEV' };

describe('local adapters', () => {
  it('LocalTicketing issues cross-referenced numbers that keep counting after a restart', async () => {
    const dir = await tempDir('tickets');
    try {
      const file = join(dir.path, 'tickets.jsonl');
      const a = new LocalTicketing({ file, baseUrl: 'http://localhost:3978' });
      const first = await a.createPair(pair);
      assert.deepEqual(first, {
        user: { number: 'REQ0001001', url: 'http://localhost:3978/tickets/REQ0001001' },
        audit: { number: 'AUD0001001', url: 'http://localhost:3978/tickets/AUD0001001' },
      });
      assert.equal((await a.get('REQ0001001'))!.related, 'AUD0001001');
      await a.addWorkNote(first.user, 'working');
      await a.resolve(first.user, 'done');
      const b = new LocalTicketing({ file, baseUrl: () => 'http://h:1' });
      const second = await b.createPair(pair);
      assert.equal(second.user.number, 'REQ0001002');
      const reloaded = (await b.get('REQ0001001'))!;
      assert.equal(reloaded.state, 'resolved');
      assert.deepEqual(reloaded.notes.map((n) => n.text), ['working', 'resolved: done']);
      await assert.rejects(b.addWorkNote({ number: 'REQ0009999', url: '' }, 'x'), /no local ticket REQ0009999/);
    } finally {
      await dir.remove();
    }
  });

  it('JsonlAudit appends numbered records and continues the sequence', async () => {
    const dir = await tempDir('audit');
    try {
      const file = join(dir.path, 'audit.jsonl');
      const a = new JsonlAudit(file);
      const [r1, r2] = await Promise.all([a.append({ type: 'x', actor: 'u' }), a.append({ type: 'y', actor: 'u', details: { n: 1 } })]);
      assert.deepEqual([r1.seq, r2.seq], [1, 2]);
      const b = new JsonlAudit(file);
      assert.equal((await b.append({ type: 'z', actor: 'system' })).seq, 3);
      assert.deepEqual((await b.readAll()).map((r) => r.type), ['x', 'y', 'z']);
      await writeFile(join(dir.path, 'empty.jsonl'), '');
      assert.deepEqual(await new JsonlAudit(join(dir.path, 'missing.jsonl')).readAll(), []);
    } finally {
      await dir.remove();
    }
  });

  it('MemoryRequestRepository hands out copies and lists newest first', async () => {
    const repo = new MemoryRequestRepository();
    const make = (id: string, at: string, userId = 'u1'): RequestRecord => ({
      id, state: 'draft', revision: 1, owner: { userId, name: 'n' }, conversation: {}, createdAt: at, updatedAt: at,
    });
    await repo.put(make('A', '2024-01-01T00:00:00.000Z'));
    await repo.put(make('B', '2024-01-02T00:00:00.000Z'));
    await repo.put(make('C', '2024-01-03T00:00:00.000Z', 'u2'));
    const got = (await repo.get('A'))!;
    got.state = 'completed';
    assert.equal((await repo.get('A'))!.state, 'draft', 'a copy');
    assert.deepEqual((await repo.listByUser('u1', 10)).map((r) => r.id), ['B', 'A']);
    assert.deepEqual((await repo.listByUser('u1', 1)).map((r) => r.id), ['B']);
    assert.deepEqual((await repo.listStale(['draft'], new Date('2024-01-02T12:00:00Z'))).map((r) => r.id).sort(), ['A', 'B']);
  });
});
