import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { tempDir } from '../support/tmp';

const APPENDER = join(__dirname, '..', 'support', 'sqliteAppender.ts');
const PER_WRITER = 200;

interface Writer {
  ready: Promise<void>;
  go(): void;
  /** The seqs the writer's appends returned, once it exited 0. */
  done: Promise<number[]>;
}

/** Starts one appender process on `file`; it waits for `go()` before appending. */
function startWriter(file: string, name: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', APPENDER, file, String(PER_WRITER), name], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve((JSON.parse(last) as { seqs: number[] }).seqs);
      else reject(new Error(`writer ${name} exited ${code ?? signal}:\n${err}${out}`));
    });
  });
  // A writer that dies before "ready" must fail the test, not hang it.
  done.catch(() => markReady());
  return { ready, go: () => child.stdin.end('go\n'), done };
}

describe('SQLite: two processes appending to one audit chain at once', () => {
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await tempDir('sqlite-two-processes');
  });
  after(async () => dir.remove());

  it(`both processes' ${PER_WRITER} appends land in one chain that verifies, with no gap and no fork`, async () => {
    const file = join(dir.path, 'data', 'fileferry.db');
    // Both open the new file at once too: the migrations must be applied exactly once.
    const writers = [startWriter(file, 'A'), startWriter(file, 'B')];
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.go();
    const [seqsA, seqsB] = await Promise.all(writers.map((w) => w.done));

    const all = [...seqsA!, ...seqsB!].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 2 * PER_WRITER }, (_, i) => i + 1), 'the two writers got the seqs 1..400 between them, each once');

    const stores = openSqliteStores({ file });
    try {
      const verdict = await verifyAuditChain(stores.audit.read());
      assert.equal(verdict.ok, true, JSON.stringify(verdict));
      assert.equal(verdict.count, 2 * PER_WRITER);
      assert.deepEqual(verdict.ok && verdict.head?.seq, 2 * PER_WRITER);
      const records = await stores.audit.readAll();
      const turns = records.filter((r, i) => i > 0 && r.details?.writer !== records[i - 1]!.details?.writer).length;
      assert.ok(turns >= 2, `the writers' appends interleave (${turns} changes of writer), so they really ran at once`);
      for (const name of ['A', 'B']) {
        const mine = records.filter((r) => r.details?.writer === name).map((r) => r.details!.i);
        assert.deepEqual(mine, Array.from({ length: PER_WRITER }, (_, i) => i), `writer ${name}'s records are all there, in its own order`);
      }
    } finally {
      stores.close();
    }
  });
});
