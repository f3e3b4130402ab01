import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { tempDir } from '../support/tmp';

const APPENDER = join(__dirname, '..', 'support', 'sqliteAppender.ts');
const PER_WRITER = 200;

interface Writer {
  /** Resolves once the writer printed `line` on a line of its own. */
  printed(line: string): Promise<void>;
  /** Sends the writer one line on stdin. */
  send(line: string): void;
  /** The seqs the writer's appends returned, once it exited 0. */
  done: Promise<number[]>;
}

/**
 * Starts one appender process on `file`: it prints "ready", waits for a line, appends half its
 * records, prints "half", waits for a second line, appends the rest (see sqliteAppender.ts).
 */
function startWriter(file: string, name: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', APPENDER, file, String(PER_WRITER), name], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: Array<{ line: string; resolve: () => void }> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = out.split('\n');
    for (const w of waiting.filter((w) => lines.includes(w.line))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // A writer that died is reported by `done`; a line sent to it must not crash the test run.
  child.stdin.on('error', () => undefined);
  const done = new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve((JSON.parse(last) as { seqs: number[] }).seqs);
      else reject(new Error(`writer ${name} exited ${code ?? signal}:\n${err}${out}`));
    });
  });
  done.catch(() => undefined); // handled where the test awaits it
  return {
    printed: (line) => new Promise<void>((resolve) => (out.split('\n').includes(line) ? resolve() : waiting.push({ line, resolve }))),
    send: (line) => child.stdin.write(`${line}\n`),
    done,
  };
}

/** Resolves once every writer printed `line`; rejects as soon as one of them died instead. */
function allPrinted(writers: Writer[], line: string): Promise<unknown> {
  return Promise.race([Promise.all(writers.map((w) => w.printed(line))), ...writers.map((w) => w.done)]);
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
    await allPrinted(writers, 'ready');
    for (const w of writers) w.send('go');
    // Both first halves are committed before either second half starts: the interleaving the
    // assertions below look for is there by construction, whatever the scheduler does.
    await allPrinted(writers, 'half');
    for (const w of writers) w.send('release');
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
      // The seqs follow the commit order across both processes: seqs 1..PER_WRITER are exactly the
      // two first halves (committed before the release), the rest exactly the two second halves.
      const firstHalf = (r: (typeof records)[number]): boolean => (r.details!.i as number) < PER_WRITER / 2;
      assert.deepEqual(records.map(firstHalf), Array.from({ length: 2 * PER_WRITER }, (_, s) => s < PER_WRITER), 'every first-half record precedes every second-half one');
      for (const name of ['A', 'B']) {
        const mine = records.filter((r) => r.details?.writer === name).map((r) => r.details!.i);
        assert.deepEqual(mine, Array.from({ length: PER_WRITER }, (_, i) => i), `writer ${name}'s records are all there, in its own order`);
      }
    } finally {
      stores.close();
    }
  });
});
