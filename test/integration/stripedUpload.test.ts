import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, utils } from 'ssh2';
import { main } from '../../src/cli/main';
import { SftpDestination, type SftpDestinationOptions } from '../../src/adapters/destination/sftpDestination';
import { LocalSource } from '../../src/adapters/source/localSource';
import { DestinationError, FerryError } from '../../src/domain/errors';
import type { ConnectOptions, Destination, DestinationSession, WriteOptions } from '../../src/ports/destination';
import { canWriteRanges } from '../../src/ports/rangeWriter';
import { runTransfer } from '../../src/transfer/engine';
import { RangeSet } from '../../src/transfer/rangeSet';
import type { TransferEvent, TransferRequest } from '../../src/transfer/types';
import { ConnectionLimitProxy } from '../support/connectionLimitProxy';
import { FaultProxy } from '../support/faultProxy';
import { startSshd, type SshdServer } from '../support/sshdServer';
import { ensureTestUser } from '../support/testUser';
import { tempDir } from '../support/tmp';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Wraps a destination to see what the engine hands each connection: bytes given to stripe
 * writes, and the ranges the server acknowledged, per phase (a phase ends at each failed attempt).
 */
class Recorder implements Destination {
  phase = 0;
  readonly sent: number[] = [0];
  readonly acked: RangeSet[] = [new RangeSet()];
  /** Every range a stripe write was asked to send, by phase. */
  readonly asked: { start: number; end: number }[][] = [[]];
  sessions = 0;

  constructor(private readonly inner: Destination) {}

  get label(): string {
    return this.inner.label;
  }

  nextPhase(): void {
    this.phase++;
    this.sent.push(0);
    this.acked.push(new RangeSet());
    this.asked.push([]);
  }

  /** Further SSH channels (RangeWriter.openLane) the engine opened on those sessions. */
  lanes = 0;
  /** Sessions (connections and channels) that wrote at least one stripe. */
  readonly writers = new Set<DestinationSession>();
  /** Set by holdUntilWriters: stripe writes wait until this many sessions have begun one. */
  private gate?: { count: number; open: Promise<void>; release: () => void };

  /** Holds every stripe write until `count` different sessions are writing, so none can take them all. */
  holdUntilWriters(count: number): void {
    let release!: () => void;
    const open = new Promise<void>((resolve) => { release = resolve; });
    this.gate = { count, open, release };
  }

  async connect(signal?: AbortSignal, options?: ConnectOptions): Promise<DestinationSession> {
    const session = await this.inner.connect(signal, options);
    this.sessions++;
    return this.wrap(session);
  }

  private wrap(session: DestinationSession): DestinationSession {
    if (!canWriteRanges(session)) return session;
    if (session.openLane) {
      const openLane = session.openLane.bind(session);
      session.openLane = async (signal?: AbortSignal) => {
        const lane = await openLane(signal);
        this.lanes++;
        return this.wrap(lane) as typeof lane;
      };
    }
    const writeRange = session.writeRange.bind(session);
    const phase = (): number => this.phase;
    const rec = this;
    session.writeRange = async (path: string, data: AsyncIterable<Buffer>, options: WriteOptions): Promise<void> => {
      const p = phase();
      rec.writers.add(session);
      if (rec.gate) {
        if (rec.writers.size >= rec.gate.count) rec.gate.release();
        await rec.gate.open;
      }
      let given = 0;
      async function* counted(): AsyncGenerator<Buffer> {
        for await (const c of data) {
          given += c.length;
          rec.sent[p]! += c.length;
          yield c;
        }
      }
      try {
        await writeRange(path, counted(), {
          ...options,
          onAcknowledged: (n) => {
            rec.acked[p]!.add(options.offset, options.offset + n);
            options.onAcknowledged?.(n);
          },
        });
      } finally {
        rec.asked[p]!.push({ start: options.offset, end: options.offset + given });
      }
    };
    return session;
  }
}

describe('striped upload: one file over several SFTP connections (OpenSSH sshd)', function () {
  this.timeout(120_000);
  let sshd: SshdServer;
  let src: { path: string; remove: () => Promise<void> };
  let body: Buffer;
  let n = 0;
  const SIZE = 40 * MiB + 12345;

  before(async () => {
    sshd = await startSshd();
    src = await tempDir('striped-src');
    body = randomBytes(SIZE);
    await mkdir(join(src.path, 'bucket'), { recursive: true });
    await writeFile(join(src.path, 'bucket', 'big.bin'), body);
  });
  after(async () => {
    await sshd?.stop();
    await src?.remove();
  });

  function sftp(port: number, extra: Partial<SftpDestinationOptions> = {}): SftpDestination {
    return sftpOn(sshd, port, extra);
  }

  /** `server`'s test user by key, reached at `port` (the server's own, or a proxy's in front of it). */
  function sftpOn(server: SshdServer, port: number, extra: Partial<SftpDestinationOptions> = {}): SftpDestination {
    return new SftpDestination({
      host: '127.0.0.1',
      port,
      username: server.user,
      privateKey: server.userKey.privateKey,
      hostKey: { fingerprint: server.hostKeyFingerprint },
      ...extra,
    });
  }

  /** A fresh remote folder's path (absolute on the server, which is this machine); the engine creates it. */
  function folder(): string {
    return join(sshd.rootDir, `striped-${++n}`);
  }

  function request(destination: Destination, remotePath: string, extra: Partial<TransferRequest> = {}): TransferRequest {
    return {
      source: new LocalSource(src.path),
      container: 'bucket',
      key: 'big.bin',
      destination,
      remotePath,
      overwrite: 'fail',
      tuning: { backoffBaseMs: 10, backoffMaxMs: 50, idleTimeoutMs: 20_000, stripedMinSize: MiB },
      ...extra,
    };
  }

  it('4 connections deliver a byte-identical file, every stripe over its own connection', async () => {
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const dir = folder();
      const recorder = new Recorder(sftp(proxy.port));
      // Loopback is fast enough for a few channels to take every stripe; held, all eight must.
      recorder.holdUntilWriters(8);
      const events: TransferEvent[] = [];
      const result = await runTransfer(request(recorder, `${dir}/big.bin`, { connections: 4, onEvent: (e) => void events.push(e) }));
      assert.equal(result.sha256, sha(body));
      assert.equal(result.bytes, SIZE);
      assert.equal(result.attempts, 1);
      assert.ok(result.verification.startsWith('size'));
      assert.ok((await readFile(join(dir, 'big.bin'))).equals(body), 'the file on the server is byte-identical');
      assert.deepEqual(await readdir(dir), ['big.bin'], 'no temporary file is left');
      assert.deepEqual(events.filter((e) => e.type === 'connections').map((e) => e.type === 'connections' && e.accepted), [4]);
      assert.equal(proxy.connections, 4, 'four TCP connections reached sshd');
      assert.equal(recorder.sent[0], SIZE, 'every byte was handed to a stripe write exactly once');
      assert.ok(recorder.acked[0]!.has(0, SIZE));
      // Each stripe write starts where a stripe starts, and they came over all four sessions.
      assert.ok(recorder.asked[0]!.length >= 10);
      assert.equal(recorder.sessions, 4);
      assert.equal(recorder.lanes, 4, 'each connection opened a second SSH channel');
      assert.equal(recorder.writers.size, 8, 'stripes went over all eight channels');
    } finally {
      await proxy.close();
    }
  });

  it("a connection's further channels are asked for with it, and openLane then takes them", async () => {
    // Counts SFTP channel requests: a lane asked for with the connection costs no round trips of
    // its own once the connection is in (four for SFTP when opened after it).
    const sftpCall = Client.prototype.sftp;
    let asked = 0;
    Client.prototype.sftp = function (this: Client, ...args: Parameters<Client['sftp']>) {
      asked++;
      return sftpCall.apply(this, args);
    } as Client['sftp'];
    const dir = folder();
    const user = ensureTestUser();
    await mkdir(dir);
    await chown(dir, user.uid, user.gid);
    let session: DestinationSession | undefined;
    try {
      const askedAtLogin: number[] = [];
      session = await sftp(sshd.port).connect(undefined, { lanes: 1, onAuthenticated: () => void askedAtLogin.push(asked) });
      assert.deepEqual(askedAtLogin, [0], 'told of the accepted login once, before any channel was asked for');
      assert.equal(asked, 2, 'the first channel and the lane were asked for before connect returned');
      assert.ok(canWriteRanges(session) && session.openLane);
      const lane = await session.openLane();
      assert.equal(asked, 2, 'openLane took the channel already open');
      const more = await session.openLane();
      assert.equal(asked, 3, 'beyond those, a lane is asked for when it is wanted');
      const path = `${dir}/lanes.bin`;
      await lane.writeRange(path, (async function* () { yield body.subarray(0, MiB); })(), { offset: 0 });
      await more.writeRange(path, (async function* () { yield body.subarray(MiB, 2 * MiB); })(), { offset: MiB });
      await lane.endRanges(path);
      await more.endRanges(path);
      assert.ok((await readFile(path)).equals(body.subarray(0, 2 * MiB)), 'both lanes wrote their ranges');
      await Promise.all([lane.close(), more.close()]);
    } finally {
      Client.prototype.sftp = sftpCall;
      await session?.close();
    }
  });

  it('a login the server refuses is never reported as accepted, so no extra connection starts', async () => {
    // A key the server does not know (sshd's authorized_keys holds only the test user's).
    const { private: privateKey } = utils.generateKeyPairSync('ed25519');
    let told = 0;
    // Through a proxy that counts connections, so the refusal is shown to come from the server.
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const error = await sftp(proxy.port, { privateKey }).connect(undefined, { lanes: 1, onAuthenticated: () => void told++ }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof FerryError && error.code === 'AUTH_FAILED', String(error));
      assert.equal(proxy.connections, 1, 'the login reached sshd');
      assert.equal(told, 0);
      // And the engine opens no other connection for it: one login was tried, not four.
      const attempt = runTransfer(request(sftp(proxy.port, { privateKey }), `${folder()}/big.bin`, { connections: 4 }));
      await assert.rejects(attempt, (e: unknown) => e instanceof FerryError && e.code === 'AUTH_FAILED');
      assert.equal(proxy.connections, 2);
    } finally {
      await proxy.close();
    }
  });

  it('an object below stripedMinSize goes over one connection, as before', async () => {
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const dir = folder();
      const events: TransferEvent[] = [];
      const result = await runTransfer(request(sftp(proxy.port), `${dir}/big.bin`, { connections: 4, tuning: { stripedMinSize: SIZE + 1 }, onEvent: (e) => void events.push(e) }));
      assert.equal(result.sha256, sha(body));
      assert.equal(proxy.connections, 1);
      assert.ok(!events.some((e) => e.type === 'connections'));
    } finally {
      await proxy.close();
    }
  });

  it('a connection cut mid-way: the next attempt sends exactly the gaps and the rest, and the SHA-256 is right', async () => {
    const proxy = await FaultProxy.start(sshd.port);
    try {
      const dir = folder();
      const recorder = new Recorder(sftp(proxy.port));
      const events: TransferEvent[] = [];
      // The first connection (the one that also prepares the folder) is cut after 6 MiB went up.
      proxy.setFault({ action: 'cut', afterBytes: 6 * MiB, direction: 'up', times: 1 });
      const result = await runTransfer(
        request(recorder, `${dir}/big.bin`, {
          connections: 4,
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'attempt-failed') recorder.nextPhase();
          },
        }),
      );
      assert.equal(proxy.faultsFired, 1);
      assert.equal(result.attempts, 2);
      assert.equal(result.sha256, sha(body));
      assert.ok((await readFile(join(dir, 'big.bin'))).equals(body));
      const first = recorder.acked[0]!;
      assert.ok(first.covered > 0 && first.covered < SIZE, `the first attempt landed part of the file (${first.covered} bytes)`);
      // The second attempt sends what the first left unacknowledged, and nothing it acknowledged.
      assert.equal(recorder.sent[1], SIZE - first.covered, 'bytes sent again = exactly the bytes missing');
      for (const range of recorder.asked[1]!) {
        assert.deepEqual(first.gaps(range.start, range.end), [{ start: range.start, end: range.end }], `${range.start}-${range.end} was not acknowledged before`);
      }
      const gaps = events.find((e) => e.type === 'gaps-resent');
      assert.ok(gaps && gaps.type === 'gaps-resent' && gaps.gaps.length > 0, 'the resumed attempt reported the gaps it re-sent');
      const resumed = events.find((e) => e.type === 'resumed');
      assert.ok(resumed && resumed.type === 'resumed');
      assert.deepEqual(result.resumedFromBytes, [resumed.fromByte]);
    } finally {
      await proxy.close();
    }
  });

  describe('a server that allows one SFTP channel per connection (MaxSessions 1)', () => {
    let limited: SshdServer;
    before(async () => {
      limited = await startSshd({ extraConfig: ['MaxSessions 1'] });
    });
    after(async () => {
      await limited?.stop();
    });

    /** Sends the object to `limited` through `port` with 4 connections asked; checks it arrived whole. */
    async function send(port: number, name: string): Promise<{ recorder: Recorder; events: TransferEvent[] }> {
      const dir = join(limited.rootDir, name);
      const recorder = new Recorder(sftpOn(limited, port));
      const events: TransferEvent[] = [];
      const result = await runTransfer(request(recorder, `${dir}/big.bin`, { connections: 4, onEvent: (e) => void events.push(e) }));
      assert.equal(result.sha256, sha(body));
      assert.equal(result.attempts, 1, 'a refused channel or login is not a failed attempt');
      assert.ok((await readFile(join(dir, 'big.bin'))).equals(body));
      return { recorder, events };
    }

    it('refuses the second channels, and the file still goes over 4 connections', async () => {
      const { recorder, events } = await send(limited.port, 'one-channel');
      assert.deepEqual(events.filter((e) => e.type === 'connections').map((e) => e.type === 'connections' && e.accepted), [4]);
      assert.equal(recorder.sessions, 4);
      assert.equal(recorder.lanes, 0, 'sshd refused every second channel');
      assert.equal(recorder.sent[0], SIZE, 'every byte went over the four connections exactly once');
    });

    it('with one login too, there is nothing to stripe over, so the one-stream path is taken', async () => {
      const proxy = await ConnectionLimitProxy.start(limited.port, 1);
      try {
        const { recorder } = await send(proxy.port, 'one-stream');
        assert.equal(proxy.refused, 3);
        assert.equal(recorder.lanes, 0);
        assert.deepEqual(recorder.asked[0], [], 'no stripe write: the file went as one stream');
      } finally {
        await proxy.close();
      }
    });
  });

  it('a server that takes one connection at a time gets one, and the file still arrives whole', async () => {
    const proxy = await ConnectionLimitProxy.start(sshd.port, 1);
    try {
      const dir = folder();
      const events: TransferEvent[] = [];
      const result = await runTransfer(request(sftp(proxy.port), `${dir}/big.bin`, { connections: 4, onEvent: (e) => void events.push(e) }));
      assert.equal(result.sha256, sha(body));
      assert.equal(result.attempts, 1, 'a refused extra login is not a failed attempt');
      assert.ok((await readFile(join(dir, 'big.bin'))).equals(body));
      const told = events.filter((e) => e.type === 'connections');
      assert.equal(told.length, 1);
      assert.ok(told[0]!.type === 'connections' && told[0]!.accepted === 1 && told[0]!.requested === 4 && told[0]!.reason === 'NETWORK');
      assert.equal(proxy.refused, 3, 'the three extra logins were refused');
    } finally {
      await proxy.close();
    }
  });

  it('a server that refuses writes at offsets falls back to one connection and completes', async () => {
    const dir = folder();
    const inner = sftp(sshd.port);
    // Models an SFTP front end over object storage that only takes sequential writes (none runs
    // here): stripe writes past the start fail as OpenSSH reports an unsupported operation.
    let refusals = 0;
    const appendOnly: Destination = {
      label: inner.label,
      async connect(signal) {
        const s = await inner.connect(signal);
        if (canWriteRanges(s)) {
          const real = s.writeRange.bind(s);
          s.writeRange = async (path, data, options) => {
            if (options.offset > 0) {
              refusals++;
              throw new DestinationError('UNSUPPORTED', 'Writing past the start is not supported.');
            }
            return real(path, data, options);
          };
        }
        return s;
      },
    };
    const events: TransferEvent[] = [];
    const result = await runTransfer(request(appendOnly, `${dir}/big.bin`, { connections: 4, onEvent: (e) => void events.push(e) }));
    assert.ok(refusals > 0);
    assert.equal(result.sha256, sha(body));
    assert.ok((await readFile(join(dir, 'big.bin'))).equals(body));
    const last = events.filter((e) => e.type === 'connections').pop();
    assert.ok(last && last.type === 'connections' && last.accepted === 1 && last.reason === 'UNSUPPORTED');
    assert.equal(events.filter((e) => e.type === 'attempt-failed').length, 0, 'the fall-back is not a failed attempt');
  });

  it('cancel mid-way aborts every connection and removes the temporary file', async () => {
    const dir = folder();
    const controller = new AbortController();
    const events: TransferEvent[] = [];
    await assert.rejects(
      runTransfer(
        request(sftp(sshd.port), `${dir}/big.bin`, {
          connections: 4,
          signal: controller.signal,
          tuning: { backoffBaseMs: 10, progressIntervalMs: 0, idleTimeoutMs: 20_000, stripedMinSize: MiB },
          onProgress: (p) => { if (p.bytes > 8 * MiB) controller.abort(); },
          onEvent: (e) => void events.push(e),
        }),
      ),
      (e: unknown) => e instanceof FerryError && e.code === 'CANCELLED',
    );
    assert.ok(events.some((e) => e.type === 'cleaned-up'));
    assert.deepEqual(await readdir(dir), [], 'neither the temporary nor the final name is on the server');
  });

  it('resuming a striped file an earlier process left trusts it only a window below its size', async () => {
    const dir = folder();
    await mkdir(dir, { recursive: true });
    const temporary = `${dir}/.big.bin.left.fileferry-part`;
    // What a striped process (window 8 MiB) that died might leave: a full prefix, then a hole
    // (zeros) inside the last window, and a stripe written beyond it.
    const left = Buffer.alloc(30 * MiB);
    body.copy(left, 0, 0, 23 * MiB);
    body.copy(left, 26 * MiB, 26 * MiB, 30 * MiB);
    await writeFile(temporary, left);
    const user = ensureTestUser();
    await chown(dir, user.uid, user.gid);
    await chown(temporary, user.uid, user.gid);
    const recorder = new Recorder(sftp(sshd.port));
    const result = await runTransfer(
      request(recorder, `${dir}/big.bin`, { connections: 4, resumeTemporaryPath: temporary, tuning: { stripeWindow: 8 * MiB, backoffBaseMs: 10, stripedMinSize: MiB } }),
    );
    assert.equal(result.sha256, sha(body));
    assert.ok((await readFile(join(dir, 'big.bin'))).equals(body), 'the hole was filled, not trusted');
    assert.deepEqual(result.resumedFromBytes, [22 * MiB], 'trusted up to its size minus the window');
    assert.equal(recorder.sent[0], SIZE - 22 * MiB);
  });

  describe('fileferry copy --connections', () => {
    /** Runs the CLI in-process and captures what it prints. */
    async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
      let out = '';
      let err = '';
      const sink = (append: (t: string) => void): Writable => new Writable({ write(chunk, _enc, cb) { append(chunk.toString()); cb(); } });
      const code = await main(args, { out: sink((t) => (out += t)), err: sink((t) => (err += t)), env: {} });
      return { code, out, err };
    }

    it('sends an object above the striping size over N connections, and over one with --connections 1', async () => {
      // Above the engine's default stripedMinSize (64 MiB), which the CLI does not change.
      const large = Buffer.concat([body, body]);
      await writeFile(join(src.path, 'bucket', 'large.bin'), large);
      const keyFile = join(src.path, 'id_test');
      await writeFile(keyFile, sshd.userKey.privateKey, { mode: 0o600 });
      for (const connections of [3, 1]) {
        const proxy = await FaultProxy.start(sshd.port);
        try {
          const dir = folder();
          const r = await cli([
            'copy', `file://${src.path}/bucket/large.bin`, `sftp://${sshd.user}@127.0.0.1:${proxy.port}${dir}/`,
            '--identity', keyFile, '--host-key', sshd.hostKeyFingerprint, '--connections', String(connections), '--json',
          ]);
          assert.equal(r.code, 0, r.out + r.err);
          assert.equal(JSON.parse(r.out).sha256, sha(large));
          assert.ok((await readFile(join(dir, 'large.bin'))).equals(large));
          assert.equal(proxy.connections, connections, `--connections ${connections} opened ${proxy.connections}`);
        } finally {
          await proxy.close();
        }
      }
    });

    it('refuses a connection count that is not 1 to 16 as bad usage', async () => {
      for (const bad of ['0', '17', 'two', '1.5']) {
        const r = await cli(['copy', `file://${src.path}/bucket/big.bin`, 'sftp://u@127.0.0.1:1/x', '--connections', bad]);
        assert.equal(r.code, 2, bad);
        assert.match(r.err, /--connections must be a whole number from 1 to 16/);
      }
    });
  });
});
