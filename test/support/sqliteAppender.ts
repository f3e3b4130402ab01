/**
 * A child process for test/integration/sqliteTwoProcesses.test.ts: opens the SQLite stores on
 * argv[2], prints "ready", waits for a line on stdin (so the two writers start together), appends
 * the first half of argv[3] audit records tagged with writer argv[4], prints "half", waits for a
 * second line on stdin, appends the rest, prints the seqs it got as one JSON line and exits.
 * The parent sends the second line only once both writers printed "half", so each writer's second
 * half comes after the other's first half: the chain interleaves by construction, not by timing.
 * Run with `node --import tsx test/support/sqliteAppender.ts FILE COUNT WRITER`.
 */
import { createInterface } from 'node:readline';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';

async function run(): Promise<void> {
  const [file, countText, writer] = process.argv.slice(2);
  const count = Number(countText);
  // readline buffers lines, so a line the parent sends early is not lost between the two waits.
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const nextLine = async (what: string): Promise<void> => {
    if ((await lines.next()).done) throw new Error(`stdin closed before ${what}`);
  };
  const stores = openSqliteStores({ file: file! });
  try {
    process.stdout.write('ready\n');
    await nextLine('go');
    const seqs: number[] = [];
    const half = Math.floor(count / 2);
    for (let i = 0; i < count; i++) {
      if (i === half) {
        process.stdout.write('half\n');
        await nextLine('release');
      }
      const record = await stores.audit.append({ type: 'test.append', actor: `writer-${writer}`, requestId: `FF-${writer}`, details: { writer: writer!, i } });
      seqs.push(record.seq);
    }
    process.stdout.write(`${JSON.stringify({ writer, seqs })}\n`);
  } finally {
    stores.close();
  }
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`sqliteAppender: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
