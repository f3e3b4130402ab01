import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Source } from '../../src/adapters/source/s3Source';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { verifyAuditChain } from '../../src/domain/auditChain';
import { temporaryPathFor } from '../../src/transfer/remotePath';
import { ClaimLedger } from '../../src/push/claimLedger';
import { stableId } from '../../src/push/fileFerryPushEngine';
import type { PushObjectRecord } from '../../src/push/pushRecord';
import { PausableProxy } from '../support/pausableProxy';
import { pushHarness, pushProcessEnv, sshdSpec, startPushProcess, until, type PushProcess } from '../support/pushHarness';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverServer } from '../support/s3rverServer';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { tempDir } from '../support/tmp';

/**
 * Issue 14, "killed in the middle of the burst": `fileferry push run` (the compiled CLI, SQLite
 * store in its data folder) sends 200 objects from s3rver to sshd, is SIGKILLed once some but not
 * all are on the server, and a second process on the same data folder finishes the burst. Exactly
 * 200 files, byte-identical, no temporary file left, and each object sent once: one `push.sent`
 * per object, and the files the first process had already placed are untouched (same inode and
 * mtime), so none was written a second time, even those it renamed but did not record.
 */

const COUNT = 200;
const PART = /\.fileferry-part$/;
const PASSWORD_VAR = 'PUSH_TEST_RESTART_SFTP_PASSWORD';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('push mode: the process killed in the middle of a 200-object burst (fileferry push run, SQLite)', function () {
  this.timeout(600_000);
  let s3: S3rverServer;
  let sshd: SshdServer;
  /** Between the pushing processes and sshd: frozen for the kill, so sends are in flight when it lands. */
  let proxy: PausableProxy;
  let dir: { path: string; remove: () => Promise<void> };
  const processes: PushProcess[] = [];
  const bodies = new Map<string, Buffer>();
  let folder = '';
  let env: NodeJS.ProcessEnv = {};
  let rulesFile = '';
  /** Final files on the server when the first process died: path → inode and mtime. */
  const atKill = new Map<string, { ino: number; mtimeMs: number }>();
  /** Keys the dead process held claims on. */
  const claimedAtKill: string[] = [];

  /** The rule's ledger records, read from the SQLite file as another process (the CLI's store). */
  async function ledgerRecords(): Promise<PushObjectRecord[]> {
    const stores = openSqliteStores({ file: join(dir.path, 'data', 'fileferry.db') });
    try {
      const out: PushObjectRecord[] = [];
      for await (const d of new ClaimLedger(stores.documents).records('restart')) out.push(d.body);
      return out;
    } finally {
      stores.close();
    }
  }

  before(async () => {
    [s3, sshd, dir] = await Promise.all([startS3rver(), startSshd(), tempDir('push-restart')]);
    proxy = await PausableProxy.start(sshd.port);
    folder = join(sshd.rootDir, 'restart');
    await Promise.all(Array.from({ length: COUNT }, async (_, i) => {
      // Sizes from 16 KiB to about 90 KiB: small enough for a quick test, large enough that a send is not instant.
      const body = randomBytes(16_384 + i * 371);
      const key = `restart/part ${String(i).padStart(3, '0')}.csv`;
      bodies.set(key, body);
      await s3.seed('outbound', key, body);
    }));
    const destinations = join(dir.path, 'destinations.json');
    await writeFile(destinations, JSON.stringify([
      { name: 'Partner', protocol: 'sftp', host: '127.0.0.1', port: proxy.port, username: sshd.user, remoteFolder: folder, hostKeyFingerprint: sshd.hostKeyFingerprint, passwordRef: `env:${PASSWORD_VAR}` },
    ]));
    rulesFile = join(dir.path, 'rules.json');
    // A short lease, so the second process takes over the dead one's claims within seconds.
    await writeFile(rulesFile, JSON.stringify({
      settings: { maxInFlight: 3, leaseSeconds: 3, scanSeconds: 0.2, retryBaseSeconds: 0.2, retryMaxSeconds: 1 },
      rules: [{ name: 'restart', source: 's3://outbound/restart/', match: { extensions: ['.csv'] }, destination: { name: 'Partner', folder: `${folder}/{name}`, connections: 3 }, stability: 0, triggers: { poll: { seconds: 1 } } }],
    }));
    env = pushProcessEnv({
      FILEFERRY_STORE: 'sqlite',
      FILEFERRY_DATA_DIR: join(dir.path, 'data'),
      FILEFERRY_DESTINATIONS_FILE: destinations,
      [PASSWORD_VAR]: sshd.password,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    });

    const first = await startPushProcess(rulesFile, env);
    processes.push(first);
    // The kill comes from what the server holds, not from a timer: some files placed, not all.
    const placed = await until('the first files on the server', async () => {
      const n = (await filesUnder(folder)).filter((f) => !PART.test(f)).length;
      return n >= 20 && n;
    }, 240_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`);
    });
    // Then the link freezes: no send can finish or fail for tens of seconds (idle and keepalive
    // timeouts), so a claim the ledger holds now is still held when the kill lands.
    proxy.pause();
    await until('a claim held by the first process', async () => (await ledgerRecords()).some((r) => r.state === 'claimed'), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${first.output()}`);
    });
    await first.kill('SIGKILL');
    // Its connections are gone from the proxy too, so no byte it had in flight can reach sshd later.
    await until('the dead process\'s connections closed', async () => proxy.openSockets === 0, 30_000);
    for (const f of (await filesUnder(folder)).filter((p) => !PART.test(p))) {
      const s = await stat(f);
      atKill.set(f, { ino: s.ino, mtimeMs: s.mtimeMs });
    }
    assert.ok(placed > 0 && atKill.size < COUNT, `the kill came in the middle of the burst (${atKill.size} of ${COUNT} placed)`);
    for (const r of await ledgerRecords()) if (r.state === 'claimed') claimedAtKill.push(r.key);
    assert.ok(claimedAtKill.length > 0, 'the first process died holding claims (sends in flight)');

    // The dead process's held bytes were dropped with its connections; the second process's flow.
    proxy.resume();
    const second = await startPushProcess(rulesFile, env);
    processes.push(second);
    await until('all 200 sent', async () => (await ledgerRecords()).filter((r) => r.state === 'sent').length === COUNT, 300_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${second.output()}`);
    });
    await second.stop();
  });

  after(async () => {
    for (const p of processes) await p.stop();
    await Promise.all([s3?.stop(), proxy?.close(), sshd?.stop(), dir?.remove()]);
  });

  it('200 byte-identical files on the server, no temporary file left', async () => {
    const files = await filesUnder(folder);
    assert.deepEqual(files.filter((f) => PART.test(f)), [], 'no temporary file left');
    assert.equal(files.length, COUNT);
    for (const [key, body] of bodies) {
      const name = key.slice('restart/'.length);
      assert.equal(sha(await readFile(join(folder, name))), sha(body), name);
    }
  });

  it('none sent twice: the files placed before the kill are untouched, one push.sent per object', async () => {
    for (const [f, before] of atKill) {
      const s = await stat(f);
      assert.deepEqual({ ino: s.ino, mtimeMs: s.mtimeMs }, before, `${f} was not written again after the restart`);
    }
    const records = await ledgerRecords();
    const stores = openSqliteStores({ file: join(dir.path, 'data', 'fileferry.db') });
    try {
      assert.equal(records.length, COUNT, 'one ledger record per object (none superseded or doubled)');
      assert.ok(records.every((r) => r.state === 'sent'), JSON.stringify(records.filter((r) => r.state !== 'sent')));
      const audit = await stores.audit.readAll();
      const verdict = await verifyAuditChain(stores.audit.read());
      assert.equal(verdict.ok, true, 'both processes wrote one audit chain that verifies');
      const sent = audit.filter((a) => a.type === 'push.sent');
      const perKey = new Map<string, number>();
      for (const a of sent) perKey.set(String(a.details?.key), (perKey.get(String(a.details?.key)) ?? 0) + 1);
      assert.equal(perKey.size, COUNT);
      assert.deepEqual([...perKey.values()].filter((n) => n !== 1), [], 'exactly one push.sent per object');
      // Every object the first process had placed is recorded as sent by one of the two, never re-sent:
      // the ones it had not yet recorded are recorded by the second as found in place.
      const byPath = new Map(records.map((r) => [r.remotePath, r]));
      for (const f of atKill.keys()) assert.ok(byPath.get(f), `${f} is in the ledger`);
      for (const r of records.filter((x) => x.sha256)) assert.equal(r.sha256, sha(bodies.get(r.key)!), r.key);
      // Each claim the dead process held is taken over once (resumed from its part file, or found in place).
      const takenOver = audit.filter((a) => a.type === 'push.claimed' && a.details?.resumed === true).map((a) => String(a.details?.key));
      assert.deepEqual(takenOver.sort(), [...claimedAtKill].sort());
    } finally {
      stores.close();
    }
  });

  /**
   * The two moments a kill may hit that the burst above reaches only by chance, set up exactly: the
   * dead process renamed the verified file but did not record it, or it left a partial temporary
   * file. A process over the same SQLite ledger takes each claim over once its lease has run out.
   */
  describe('a claim left by a dead process, taken over', () => {
    const rule = 'takeover';
    let takeoverFolder = '';

    async function deadClaim(ledger: ClaimLedger, key: string, body: Buffer): Promise<{ id: string; finalPath: string; partPath: string }> {
      await s3.seed('outbound', key, body);
      const s3source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
      const st = await s3source.stat('outbound', key);
      const etag = st.etag!.replace(/"/g, '');
      const { id } = await ledger.recordSeen(rule, { scheme: 's3', container: 'outbound', key, etag, size: body.length, via: 'sqs' }, new Date());
      const doc = (await ledger.get(id))!;
      // Claimed by a process that is gone, its lease over a minute ago.
      await ledger.update(doc, { state: 'claimed', stableAt: new Date().toISOString(), etag: st.etag, attempts: 1, claimedBy: 'push-dead', claimedAt: new Date(Date.now() - 120_000).toISOString(), leaseUntil: new Date(Date.now() - 60_000).toISOString() });
      // The part file's name comes from the record as the dead process had it (the ETag as HeadObject gave it).
      const finalPath = join(takeoverFolder, key.slice('takeover/'.length));
      const partPath = temporaryPathFor(finalPath, stableId({ ruleName: rule, object: { container: 'outbound', key, size: body.length, etag: st.etag! } }));
      return { id, finalPath, partPath };
    }

    it('a file already under its final name is recorded as sent, not sent again; a partial one is resumed', async () => {
      takeoverFolder = join(sshd.rootDir, 'takeover');
      await mkdir(takeoverFolder);
      const owner = await stat(sshd.rootDir);
      await chown(takeoverFolder, owner.uid, owner.gid);
      const stores = openSqliteStores({ file: join(dir.path, 'takeover.db') });
      try {
        const ledger = new ClaimLedger(stores.documents);
        const placed = randomBytes(50_000);
        const partial = randomBytes(300_000);
        const a = await deadClaim(ledger, 'takeover/renamed.csv', placed);
        const b = await deadClaim(ledger, 'takeover/partial.csv', partial);
        // What the dead process left on the server: a's verified file renamed, b's first 100 000 bytes.
        await writeFile(a.finalPath, placed);
        await writeFile(b.partPath, partial.subarray(0, 100_000));
        for (const f of [a.finalPath, b.partPath]) await chown(f, owner.uid, owner.gid);
        const before = await stat(a.finalPath);

        const s3source = new S3Source({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1' });
        const h = pushHarness({
          dir: dir.path,
          password: sshd.password,
          documents: stores.documents,
          destinations: { Partner: sshdSpec(sshd) },
          source: () => s3source,
          rulesJson: { settings: { scanSeconds: 0.1, leaseSeconds: 5 }, rules: [{ name: rule, source: 's3://outbound/takeover/', destination: { name: 'Partner', folder: `${takeoverFolder}/{name}` }, stability: 0, triggers: { poll: { seconds: 60 } } }] },
        });
        h.runner.start();
        try {
          await until('both recorded as sent', async () => {
            let sent = 0;
            for await (const d of h.runner.ledger.records(rule)) if (d.body.state === 'sent') sent++;
            return sent === 2;
          }, 60_000);
        } finally {
          await h.runner.stop();
        }
        const after = await stat(a.finalPath);
        assert.deepEqual({ ino: after.ino, mtimeMs: after.mtimeMs }, { ino: before.ino, mtimeMs: before.mtimeMs }, 'the renamed file was not written again');
        const ra = (await h.runner.ledger.get(a.id))!.body;
        const rb = (await h.runner.ledger.get(b.id))!.body;
        assert.match(ra.verification!, /found in place after a restart/);
        assert.equal(ra.bytes, placed.length);
        assert.equal(ra.attempts, 2, 'the dead process\'s attempt and the takeover');
        assert.equal(rb.sha256, sha(partial));
        assert.equal(sha(await readFile(b.finalPath)), sha(partial));
        assert.deepEqual((await filesUnder(takeoverFolder)).filter((f) => PART.test(f)), [], 'the partial file became the final one');
        const engine = h.engines.get(rule)!;
        assert.equal(engine.landedChecks, 2, 'each takeover asked first whether the file had landed');
        assert.equal(engine.sends, 1, 'only the partial one was sent (resumed)');
        const audit = (await h.audit.readAll()).filter((x) => x.details?.rule === rule);
        assert.deepEqual(audit.filter((x) => x.type === 'push.sent').map((x) => x.details?.key).sort(), ['takeover/partial.csv', 'takeover/renamed.csv']);
        assert.ok(audit.filter((x) => x.type === 'push.claimed').every((x) => x.details?.resumed === true));
      } finally {
        stores.close();
      }
    });
  });
});
