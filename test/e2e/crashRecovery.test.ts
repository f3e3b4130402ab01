import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ChatUser } from '../support/botHarness';
import { startBotProcess, type BotProcess } from '../support/botProcess';
import { actionsOf, cardOf, cardText } from '../support/cardQuery';
import { toDestinationForm } from '../support/localRequest';
import { FakeConnector } from '../support/fakeConnector';
import { freePort } from '../support/ports';
import { remoteUser } from '../support/remoteChat';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { ThrottledProxy } from '../support/throttledProxy';
import { tempDir } from '../support/tmp';

/**
 * Issue 11, "Restart and crash recovery": the bot runs as its own process (node --import tsx
 * src/index.ts, SQLite store in its data folder), is killed with SIGKILL while a 48 MiB file goes
 * through a rate-capped proxy to a real sshd, and a second process on the same data folder finds
 * the request, tells its owner and, where the job needs nothing the dead process held, resumes it.
 */

const ROOT = resolve(__dirname, '..', '..');
const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
/** 48 MiB at 4 MiB/s takes about 12 s; the kill comes once some MiB are on the server. */
const RATE = 4 * MiB;
const KILL_AFTER_BYTES = 4 * MiB;
const SAVED = 'Partner SFTP (crash test)';
const PASSWORD_VAR = 'FILEFERRY_TEST_CRASH_SFTP_PASSWORD';
const FORM = { environment: 'PROD', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '2', justification: 'Crash recovery: the bot is killed mid-transfer.' };
const PART = /\.fileferry-part$/;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The child's environment: this one without any FileFerry or bot setting, plus `settings`. */
function botEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(FILEFERRY_|Microsoft|SERVICENOW_|COSMOS_)/.test(k) || ['PORT', 'NODE_ENV', 'LOG_LEVEL'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'debug', ...settings };
}

/** `node bin/fileferry.js …` as an operator runs it, with `env`. */
function fileferry(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['bin/fileferry.js', ...args], { cwd: ROOT, env, maxBuffer: 64 * MiB }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

interface AuditLine {
  type: string;
  requestId?: string;
  seq: number;
  details?: Record<string, unknown>;
}

/** The request's audit records, in chain order, through `fileferry audit export`. */
async function auditOf(env: NodeJS.ProcessEnv, requestId: string): Promise<AuditLine[]> {
  const out = await fileferry(['audit', 'export', '--since', '2000-01-01', '--until', '2100-01-01', '--format', 'jsonl', '--request', requestId], env);
  assert.equal(out.code, 0, `audit export failed: ${out.stderr}`);
  return out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLine);
}

async function assertChainVerifies(env: NodeJS.ProcessEnv): Promise<void> {
  const verdict = await fileferry(['audit', 'verify'], env);
  assert.equal(verdict.code, 0, `fileferry audit verify exits 0; it said:\n${verdict.stdout}${verdict.stderr}`);
  assert.match(verdict.stdout, /intact/i);
}

/** A line of the local ticketing file (src/adapters/ticketing/localTicketing.ts), as far as these tests read it. */
type TicketLine = { op: 'open'; ticket: { number: string; requestId: string } } | { op: 'note'; number: string; text: string } | { op: 'close'; number: string; state: string };

/** The request's two local tickets (<data>/tickets.jsonl): their work notes and how each was closed, if it was. */
async function ticketsOf(dataDir: string, requestId: string): Promise<{ number: string; notes: string[]; closed?: string }[]> {
  const lines = (await readFile(join(dataDir, 'tickets.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as TicketLine);
  const numbers = lines.flatMap((l) => (l.op === 'open' && l.ticket.requestId === requestId ? [l.ticket.number] : []));
  return numbers.map((number) => {
    const close = lines.find((l): l is Extract<TicketLine, { op: 'close' }> => l.op === 'close' && l.number === number);
    return {
      number,
      notes: lines.flatMap((l) => (l.op === 'note' && l.number === number ? [l.text] : [])),
      ...(close ? { closed: close.state } : {}),
    };
  });
}

/** Files named *.fileferry-part in `folder` (none when the folder does not exist). */
async function partFiles(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [] as string[])).filter((n) => PART.test(n));
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, explain: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.${explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The current card of message `activityId` once `test` holds for it. */
function cardWhen(user: ChatUser, activityId: string, what: string, test: (card: Record<string, unknown>) => boolean, timeoutMs = 60_000) {
  return user.waitFor(what, () => {
    const c = user.cards().find((x) => x.activityId === activityId);
    return c && test(c.card) ? c.card : undefined;
  }, timeoutMs);
}

/**
 * One crash, shared by the cases below: a data folder with sources/sample-bucket/big.bin, a
 * rate-capped proxy in front of sshd, the first bot process (killed), the second (kept), and what
 * was seen at the moment of the kill.
 */
class Crash {
  readonly bots: BotProcess[] = [];
  user!: ChatUser;
  requestId = '';
  /** The message whose card shows the transfer (progress, then its end). */
  cardId = '';
  /** The server's part file when the second process had started. */
  partName = '';
  partBytesAfterRestart = 0;
  source!: Buffer;
  dataDir!: { path: string; remove: () => Promise<void> };
  proxy!: ThrottledProxy;
  env: NodeJS.ProcessEnv = {};
  private url = '';

  constructor(
    readonly sshd: SshdServer,
    readonly connector: FakeConnector,
    readonly folder: string,
  ) {}

  async prepare(settings: (dataDir: string, proxyPort: number) => Promise<Record<string, string>>): Promise<void> {
    this.proxy = await ThrottledProxy.start(this.sshd.port, { bytesPerSecond: RATE });
    this.dataDir = await tempDir('crash');
    const bucket = join(this.dataDir.path, 'sources', 'sample-bucket');
    await mkdir(bucket, { recursive: true });
    this.source = randomBytes(SIZE);
    await writeFile(join(bucket, 'big.bin'), this.source);
    this.env = botEnv({ FILEFERRY_DATA_DIR: this.dataDir.path, ...(await settings(this.dataDir.path, this.proxy.port)) });
    this.user = remoteUser({ connector: this.connector, url: () => this.url }, 'Robin Crashtest');
  }

  async startBot(): Promise<BotProcess> {
    const bot = await startBotProcess({ ...this.env, PORT: String(await freePort()) });
    this.bots.push(bot);
    this.url = bot.url;
    return bot;
  }

  /** Waits until the transfer is well under way (progress on the card, bytes on the server), then SIGKILLs the bot. */
  async killMidTransfer(bot: BotProcess): Promise<void> {
    const since = this.connector.calls.length;
    const percentOf = (card: Record<string, unknown> | undefined): number => Number(/(\d+)%/.exec(cardText(card))?.[1] ?? NaN);
    await this.user.waitFor('a progress update showing bytes sent', () =>
      this.connector.calls.slice(since).some((c) => c.kind === 'update' && c.activityId === this.cardId && actionsOf(cardOf(c.activity)).some((a) => a.verb === 'transfer.cancel') && percentOf(cardOf(c.activity)) > 0),
      60_000,
    );
    await until(
      `the part file on the server to hold ${KILL_AFTER_BYTES} bytes`,
      async () => {
        for (const name of await partFiles(this.folder)) if ((await stat(join(this.folder, name))).size >= KILL_AFTER_BYTES) return true;
        return false;
      },
      60_000,
      () => ` Bot output:\n${bot.output().slice(-4000)}`,
    );
    process.kill(bot.pid, 'SIGKILL');
    const exit = await bot.exited;
    assert.equal(exit.signal, 'SIGKILL', 'the first bot died of the SIGKILL');
    assert.ok(!this.user.messages().some((m) => /has been transferred successfully/.test(String(m.activity.text ?? ''))), 'the kill came before the transfer ended');
  }

  /** Starts the second bot on the same data folder and waits for the INTERRUPTED card on the transfer's message. */
  async restart(): Promise<Record<string, unknown>> {
    const parts = await partFiles(this.folder);
    assert.equal(parts.length, 1, `one part file on the server after the kill; found ${JSON.stringify(parts)}`);
    this.partName = parts[0]!;
    await this.startBot();
    const card = await cardWhen(this.user, this.cardId, 'the INTERRUPTED card on the transfer\'s message', (c) => /INTERRUPTED/.test(cardText(c)));
    this.partBytesAfterRestart = (await stat(join(this.folder, this.partName))).size;
    assert.ok(this.partBytesAfterRestart > 0 && this.partBytesAfterRestart < SIZE, `the server holds part of the file (${this.partBytesAfterRestart} of ${SIZE} bytes)`);
    return card;
  }

  async close(): Promise<void> {
    try {
      for (const bot of this.bots) await bot.stop();
    } finally {
      await this.proxy?.close();
      await this.dataDir?.remove();
    }
  }
}

describe('e2e: the bot killed with SIGKILL mid-transfer, restarted, and the request recovered', function () {
  this.timeout(240_000);
  let sshd: SshdServer;
  let connector: FakeConnector;

  before(async () => {
    [sshd, connector] = await Promise.all([startSshd(), FakeConnector.start()]);
  });
  after(async () => {
    try {
      await connector?.stop();
    } finally {
      await sshd?.stop();
    }
  });

  describe('to a saved SFTP destination (password by reference, local folder source): resumable', () => {
    let crash: Crash;
    let interruptedCard: Record<string, unknown>;

    before(async () => {
      crash = new Crash(sshd, connector, join(sshd.rootDir, 'saved-in'));
      await crash.prepare(async (dataDir, proxyPort) => {
        const file = join(dataDir, 'destinations.json');
        await writeFile(
          file,
          JSON.stringify([
            { name: SAVED, protocol: 'sftp', host: '127.0.0.1', port: proxyPort, username: sshd.user, remoteFolder: crash.folder, hostKeyFingerprint: sshd.hostKeyFingerprint, passwordRef: `env:${PASSWORD_VAR}` },
          ]),
        );
        return { FILEFERRY_DESTINATIONS_FILE: file, [PASSWORD_VAR]: sshd.password };
      });
      const first = await crash.startBot();
      crash.requestId = await toDestinationForm(crash.user, FORM, 'big.bin');
      const confirm = await crash.user.click('dest.submit', { inputs: { savedDestination: SAVED, overwrite: 'fail' } });
      assert.ok(actionsOf(confirm.body?.value).some((a) => a.verb === 'transfer.confirm'), `the confirm card follows; got:\n${cardText(confirm.body?.value)}`);
      crash.cardId = crash.user.findAction('transfer.confirm')!.activityId;
      await crash.user.click('transfer.confirm');
      await crash.killMidTransfer(first);
      interruptedCard = await crash.restart();
    });
    after(async () => crash?.close());

    it('tells the owner without being asked: the INTERRUPTED card with Retry on the transfer\'s message, and a notice', async () => {
      const text = cardText(interruptedCard);
      assert.match(text, /big\.bin/);
      assert.match(text, new RegExp(crash.requestId));
      assert.match(text, /interrupted/i);
      assert.match(text, /resume/i, `the hint says Retry resumes; the card says:\n${text}`);
      const retry = actionsOf(interruptedCard).find((a) => a.verb === 'transfer.retry');
      assert.ok(retry, 'the card offers Retry');
      assert.equal(retry.data.requestId, crash.requestId);
      await crash.user.waitFor('the failure notice', () => crash.user.messages().find((m) => /big\.bin could not be transferred/.test(String(m.activity.text ?? ''))));
    });

    it('status <id> after the restart reads the request from the store: interrupted (resumable), no longer transferring', async () => {
      const before = crash.user.messages().length;
      await crash.user.say(`status ${crash.requestId}`);
      const list = await crash.user.waitFor('the status card', () => crash.user.messages().slice(before).map((m) => cardOf(m.activity)).find((c) => c && cardText(c).includes(crash.requestId)));
      const text = cardText(list);
      assert.match(text, /Interrupted \(can resume\)/);
      assert.doesNotMatch(text, /Transferring/);
    });

    it('keeps the temporary .fileferry-part file on the server for the resume, and nothing under the final name', async () => {
      const names = await readdir(crash.folder);
      assert.deepEqual(names, [crash.partName], 'only the part file is there');
      assert.ok(crash.partName.startsWith('.big.bin.'), crash.partName);
      assert.deepEqual(await readFile(join(crash.folder, crash.partName)), crash.source.subarray(0, crash.partBytesAfterRestart), 'the part file is the head of the source');
    });

    it('the audit chain verifies after the crash, and records the interruption as resumable', async () => {
      await assertChainVerifies(crash.env);
      const audit = await auditOf(crash.env, crash.requestId);
      const interrupted = audit.filter((r) => r.type === 'transfer.interrupted');
      assert.equal(interrupted.length, 1, `one transfer.interrupted; the request's trail: ${audit.map((r) => r.type).join(', ')}`);
      assert.equal(interrupted[0]!.details?.resumable, true);
      assert.equal(interrupted[0]!.details?.detectedBy, 'restart');
      assert.equal(interrupted[0]!.details?.temporaryFile, 'kept');
      assert.ok(!audit.some((r) => r.type === 'transfer.completed' || r.type === 'transfer.failed'));
    });

    it('both tickets get a note of the interruption and stay open for the resume', async () => {
      const tickets = await ticketsOf(crash.dataDir.path, crash.requestId);
      assert.equal(tickets.length, 2, 'the request has its two tickets');
      for (const t of tickets) {
        assert.ok(t.notes.some((n) => /big\.bin was interrupted.*restart/.test(n)), `${t.number} has the note; its notes: ${JSON.stringify(t.notes)}`);
        assert.equal(t.closed, undefined, `${t.number} stays open`);
      }
    });

    it('Retry resumes from the bytes the server holds: the file arrives byte-identical, the part file is gone, the chain verifies', async () => {
      // The resume needs no slow link: it only has to finish.
      crash.proxy.setRate(undefined);
      const answer = await crash.user.click('transfer.retry', { activityId: crash.cardId });
      assert.ok(actionsOf(answer.body?.value).some((a) => a.verb === 'transfer.cancel'), `Retry shows the progress card; got:\n${cardText(answer.body?.value)}`);
      await crash.user.waitFor('the completion message', () => crash.user.messages().find((m) => String(m.activity.text ?? '').includes('big.bin has been transferred successfully')), 120_000);

      const delivered = await readFile(join(crash.folder, 'big.bin'));
      assert.equal(delivered.length, SIZE);
      assert.equal(sha256(delivered), sha256(crash.source), 'the delivered file is byte-identical to the source');
      assert.deepEqual(await partFiles(crash.folder), [], 'no .fileferry-part file remains');

      const audit = await auditOf(crash.env, crash.requestId);
      const types = audit.map((r) => r.type);
      const resumed = audit.filter((r) => r.type === 'transfer.resumed');
      assert.equal(resumed.length, 1, `one transfer.resumed; the trail: ${types.join(', ')}`);
      const fromByte = Number(resumed[0]!.details?.fromByte);
      assert.ok(fromByte > 0, `resumed from byte ${fromByte}`);
      assert.equal(fromByte, crash.partBytesAfterRestart, 'it continued exactly where the server\'s part file ended');
      const order = types.filter((t) => ['transfer.started', 'transfer.interrupted', 'transfer.retry-requested', 'transfer.resumed', 'transfer.completed'].includes(t));
      assert.deepEqual(order, ['transfer.started', 'transfer.interrupted', 'transfer.retry-requested', 'transfer.started', 'transfer.resumed', 'transfer.completed']);
      const completed = audit.find((r) => r.type === 'transfer.completed')!;
      assert.equal(completed.details?.sha256, sha256(crash.source), 'the audit records the source\'s SHA-256');
      await assertChainVerifies(crash.env);
      for (const t of await ticketsOf(crash.dataDir.path, crash.requestId)) assert.equal(t.closed, 'resolved', `${t.number} is resolved`);
    });
  });

  describe('to an ad-hoc SFTP destination with a typed password: not resumable', () => {
    let crash: Crash;
    let interruptedCard: Record<string, unknown>;

    before(async () => {
      crash = new Crash(sshd, connector, join(sshd.rootDir, 'adhoc-in'));
      // No FILEFERRY_DESTINATIONS_FILE: the default Local outbox, and ad-hoc servers allowed.
      await crash.prepare(async () => ({}));
      const first = await crash.startBot();
      crash.requestId = await toDestinationForm(crash.user, FORM, 'big.bin');
      const prompted = await crash.user.click('dest.submit', {
        inputs: { savedDestination: 'adhoc', protocol: 'sftp', host: '127.0.0.1', port: String(crash.proxy.port), username: sshd.user, password: sshd.password, remoteFolder: crash.folder, overwrite: 'fail' },
      });
      const trust = actionsOf(prompted.body?.value).find((a) => a.verb === 'dest.trustHostKey');
      assert.ok(trust, `a new data folder has no trusted key: the form asks; got:\n${cardText(prompted.body?.value)}`);
      assert.equal(trust.data.fingerprint, sshd.hostKeyFingerprint);
      const confirm = await crash.user.click('dest.trustHostKey');
      assert.ok(actionsOf(confirm.body?.value).some((a) => a.verb === 'transfer.confirm'), `the confirm card follows; got:\n${cardText(confirm.body?.value)}`);
      crash.cardId = crash.user.findAction('transfer.confirm')!.activityId;
      await crash.user.click('transfer.confirm');
      await crash.killMidTransfer(first);
      interruptedCard = await crash.restart();
    });
    after(async () => crash?.close());

    it('the card says it cannot be resumed because the typed password died with the process, and offers no Retry', async () => {
      const text = cardText(interruptedCard);
      assert.match(text, new RegExp(crash.requestId));
      assert.match(text, /cannot be resumed/i, `the card says why; it says:\n${text}`);
      assert.match(text, /password typed/i, 'the hint names the typed password');
      const verbs = actionsOf(interruptedCard).map((a) => a.verb);
      assert.ok(!verbs.includes('transfer.retry'), `no Retry button; actions: ${verbs.join(', ')}`);
      assert.ok(verbs.includes('request.new'), 'it offers to start again');
      await crash.user.waitFor('the failure notice', () => crash.user.messages().find((m) => /big\.bin could not be transferred/.test(String(m.activity.text ?? ''))));
    });

    it('reports the partial file on the card, which stays on the server (it cannot be removed without the password)', async () => {
      const text = cardText(interruptedCard);
      const partPath = `${crash.folder}/${crash.partName}`;
      assert.ok(text.includes(partPath), `the card names ${partPath}; it says:\n${text}`);
      assert.match(text, /partial file/i);
      assert.deepEqual(await readdir(crash.folder), [crash.partName], 'the part file is left, and nothing under the final name');
    });

    it('a forged Retry starts nothing; the audit records the interruption as not resumable; the chain verifies', async () => {
      const answer = await crash.user.send('transfer.retry', { requestId: crash.requestId }, crash.cardId);
      assert.ok(!actionsOf(answer.body?.value).some((a) => a.verb === 'transfer.cancel'), `no transfer started; the answer:\n${cardText(answer.body?.value)}`);
      assert.equal((await stat(join(crash.folder, crash.partName))).size, crash.partBytesAfterRestart, 'the part file did not grow');
      const audit = await auditOf(crash.env, crash.requestId);
      assert.equal(audit.filter((r) => r.type === 'transfer.started').length, 1, 'still one transfer.started');
      const interrupted = audit.filter((r) => r.type === 'transfer.interrupted');
      assert.equal(interrupted.length, 1, `one transfer.interrupted; the trail: ${audit.map((r) => r.type).join(', ')}`);
      assert.equal(interrupted[0]!.details?.resumable, false);
      assert.equal(interrupted[0]!.details?.temporaryFile, 'left');
      await assertChainVerifies(crash.env);
    });

    it('both tickets get a note of the interruption and are closed as failed', async () => {
      const tickets = await ticketsOf(crash.dataDir.path, crash.requestId);
      assert.equal(tickets.length, 2, 'the request has its two tickets');
      for (const t of tickets) {
        assert.ok(t.notes.some((n) => /big\.bin was interrupted.*restart/.test(n)), `${t.number} has the note; its notes: ${JSON.stringify(t.notes)}`);
        assert.equal(t.closed, 'failed', `${t.number} is closed as failed`);
      }
    });

    it('the typed password was never written to the data folder or the bots\' output', async () => {
      const files = (await readdir(crash.dataDir.path, { recursive: true })).map((n) => join(crash.dataDir.path, String(n)));
      for (const file of files) {
        if (!(await stat(file)).isFile() || file.endsWith('big.bin')) continue;
        assert.ok(!(await readFile(file)).includes(sshd.password), `the password is in ${file}`);
      }
      for (const bot of crash.bots) assert.ok(!bot.output().includes(sshd.password), 'the password is in a bot\'s output');
    });
  });
});
