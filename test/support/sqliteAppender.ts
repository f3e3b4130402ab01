/**
 * A child process for test/integration/sqliteTwoProcesses.test.ts: opens the SQLite stores on
 * argv[2], prints "ready", waits for a line on stdin (so the two writers start together), appends
 * argv[3] audit records tagged with writer argv[4], one every millisecond or so (so the two writers'
 * appends interleave rather than one finishing before the other wakes), prints the seqs it got as
 * one JSON line and exits.
 * Run with `node --import tsx test/support/sqliteAppender.ts FILE COUNT WRITER`.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';

async function run(): Promise<void> {
  const [file, countText, writer] = process.argv.slice(2);
  const count = Number(countText);
  const stores = openSqliteStores({ file: file! });
  try {
    process.stdout.write('ready\n');
    await once(process.stdin, 'data');
    const seqs: number[] = [];
    for (let i = 0; i < count; i++) {
      const record = await stores.audit.append({ type: 'test.append', actor: `writer-${writer}`, requestId: `FF-${writer}`, details: { writer: writer!, i } });
      seqs.push(record.seq);
      await sleep(1);
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
