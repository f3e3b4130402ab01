/**
 * `npm run bench`: a benchmark, not a test. Starts its own s3rver, sshd and vsftpd on loopback and
 * measures FileFerry as users run it (the `fileferry copy` command, bin/fileferry.js, whole
 * process, start-up included) beside ceilings that do the least work the same route needs and
 * beside peer tools, all on the same bytes, in one run. See the README's "Speed and memory".
 *
 * Parts (BENCH_ONLY=sftp,ftp,wan,loop picks some; default all):
 *   sftp  S3→SFTP on loopback: curl | ssh cat, and the same with SHA-256 on a tee, both with the
 *         cipher FileFerry's ssh2 negotiates (read from sshd's log, printed); rclone with and
 *         without its remote hash check; FileFerry, and FileFerry on a 100 MiB object (RSS check).
 *   ftp   S3→FTP on loopback: curl | curl -T -, the same with SHA-256 on a tee; FileFerry.
 *   wan   S3→SFTP through bench/delayProxy.ts at 50 and 100 ms round trip (BENCH_WAN_MIB, default
 *         256): curl | ssh cat, OpenSSH sftp put, rclone, FileFerry.
 *   loop  the bot's /healthz latency while it runs four transfers (bench/botUnderLoad.ts).
 * BENCH_MIB (default 1024) sets the loopback size, BENCH_ROUNDS (default 3) the rounds: runs are
 * interleaved round by round and each row keeps its fastest round. Results also go to
 * bench/results/latest.json and latest.svg (and docs/bench.svg after a full run).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, release } from 'node:os';
import { startS3rver, S3RVER_CREDENTIALS, type S3rverServer } from '../test/support/s3rverServer';
import { startSshd, type SshdServer } from '../test/support/sshdServer';
import { startVsftpd } from '../test/support/vsftpdServer';
import { tempDir } from '../test/support/tmp';
import { machineCpu, settle } from './machine';
import { meteredRun, shellArgv, type Metered } from './meteredRun';
import { DelayProxy } from './delayProxy';
import { findPeerTools } from './peerTools';
import { benchChart } from './benchChart';
import { measureBotUnderLoad } from './botUnderLoad';
import { fileferrySnapshot } from './fileferrySnapshot';
import type { BenchMachine, BenchResults, BenchRow, RowKind } from './benchResults';

const ROOT = resolve(__dirname, '..');
const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_MIB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WAN_MIB = Number(process.env.BENCH_WAN_MIB ?? Math.min(256, SIZE_MIB));
const PARTS = ['sftp', 'ftp', 'wan', 'loop'] as const;
type Part = (typeof PARTS)[number];

function parts(): Set<Part> {
  const only = process.env.BENCH_ONLY?.trim();
  if (!only) return new Set(PARTS);
  const named = only.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = named.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names ${unknown.join(', ')}; the parts are ${PARTS.join(', ')} (comma-separated).`);
  return new Set(named as Part[]);
}

/** One row to measure: a command, the file it writes, and what must hold after it ran. */
interface Run {
  route: string;
  name: string;
  kind: RowKind;
  /** How the row is shown: the command with secrets replaced by where they came from. */
  command: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  bytes: number;
  /** The file the run writes, deleted (and synced) before each round and checked after it. */
  output: string;
  sftp?: SshdServer;
  /** Checks what the command printed or left (a digest, FileFerry's report); throws when wrong. */
  check?: (m: Metered) => Promise<void>;
}

interface Measured extends Metered {
  machineCpuSeconds: number;
  ciphers: string[];
}

/** The client→server ciphers sshd logged since `mark` (one per connection). */
function ciphersSince(sshd: SshdServer, mark: number): string[] {
  return [...sshd.logSince(mark).matchAll(/kex: client->server cipher: (\S+)/g)].map((m) => m[1]!);
}

/** What bin/fileferry.js prints when it compiles dist/ first (scripts/ensureBuilt.js): that run timed tsc too. */
const REBUILT = /compiling src\/ to dist\//;

async function measureOnce(run: Run): Promise<Measured> {
  const m = await measureOnceAsIs(run);
  // The snapshot has no src/, so this cannot happen; should it, the time includes tsc and is no measurement.
  if (REBUILT.test(m.stderr)) throw new Error(`${run.name}: fileferry compiled dist/ inside the timed run.`);
  return m;
}

async function measureOnceAsIs(run: Run): Promise<Measured> {
  await settle([run.output]);
  const mark = run.sftp?.logMark() ?? 0;
  const before = machineCpu().busy;
  const m = await meteredRun(run.argv, run.env);
  const machineCpuSeconds = machineCpu().busy - before;
  const ciphers = run.sftp ? [...new Set(ciphersSince(run.sftp, mark))] : [];
  const size = (await stat(run.output).catch(() => undefined))?.size;
  if (size !== run.bytes) throw new Error(`${run.name}: ${run.output} holds ${size ?? 'nothing'} bytes, not ${run.bytes}. The run is not a measurement.`);
  await run.check?.(m);
  return { ...m, machineCpuSeconds, ciphers };
}

/**
 * Every run `rounds` times, interleaved (round 1 of each, then round 2…), keeping each run's
 * fastest: a machine that slows down for a while slows every run alike.
 */
async function bestOfInterleaved(runs: Run[], rounds: number): Promise<BenchRow[]> {
  const best = new Map<Run, Measured>();
  const all = new Map<Run, number[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const run of runs) {
      const m = await measureOnce(run);
      const rate = run.bytes / MiB / m.seconds;
      all.set(run, [...(all.get(run) ?? []), rate]);
      process.stderr.write(`  round ${round}/${rounds}  ${`${run.route}: ${run.name}`.padEnd(64)} ${rate.toFixed(0).padStart(5)} MiB/s  ${m.cpuSeconds.toFixed(2)} CPU s  ${m.peakRssMiB.toFixed(0)} MiB${m.ciphers.length ? `  ${m.ciphers.join('/')}` : ''}\n`);
      const top = best.get(run);
      if (!top || m.seconds < top.seconds) best.set(run, m);
    }
  }
  return runs.map((run) => {
    const m = best.get(run)!;
    const gib = run.bytes / 1024 / MiB;
    return {
      route: run.route,
      name: run.name,
      kind: run.kind,
      command: run.command,
      bytes: run.bytes,
      seconds: m.seconds,
      mibPerSecond: run.bytes / MiB / m.seconds,
      cpuSeconds: m.cpuSeconds,
      cpuSecondsPerGiB: m.cpuSeconds / gib,
      peakRssMiB: m.peakRssMiB,
      machineCpuSecondsPerGiB: m.machineCpuSeconds / gib,
      ...(m.ciphers.length ? { cipher: m.ciphers.join('/') } : {}),
      roundsMiBps: all.get(run)!.map((r) => Number(r.toFixed(1))),
    };
  });
}

function machine(): BenchMachine {
  return { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cores: Number(execFileSync('nproc').toString().trim()), node: process.version, kernel: release() };
}

/** 64 MiB of random bytes repeated: incompressible for any window a transport might use. */
function payload(mib: number): Buffer {
  const block = randomBytes(Math.min(mib, 64) * MiB);
  const out = Buffer.allocUnsafe(mib * MiB);
  for (let at = 0; at < out.length; at += block.length) block.copy(out, at);
  return out;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Everything the parts share: servers, keys, objects and how to spell the commands. */
interface Bench {
  work: string;
  s3: S3rverServer;
  sshd: SshdServer;
  keyPath: string;
  /** Object key → its size and SHA-256, as seeded into s3rver bucket 'bench' (and written under work/). */
  objects: Map<string, { bytes: number; sha256: string; local?: string }>;
  fileferryEnv: NodeJS.ProcessEnv;
  rcloneEnv?: (sshPort: number) => NodeJS.ProcessEnv;
  cipher: string;
  connectionsFlag: string[];
  /** bin/fileferry.js of the snapshot (bench/fileferrySnapshot.ts). */
  fileferry: string;
  notes: string[];
}


function sshOptions(b: Bench): string {
  return `-c ${b.cipher} -i ${b.keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o Compression=no`;
}

/** `fileferry copy` of `key` to `target` on sshd (through `port`), checked against the object's SHA-256. */
function fileferrySftp(b: Bench, route: string, name: string, key: string, port: number, target: string, extra: string[] = []): Run {
  const object = b.objects.get(key)!;
  const args = ['copy', `s3://bench/${key}`, `sftp://${b.sshd.user}@127.0.0.1:${port}${target}`, '--identity', b.keyPath, '--host-key', b.sshd.hostKeyFingerprint, '--overwrite', 'replace', '--json', ...extra];
  return {
    route, name, kind: 'fileferry', bytes: object.bytes, output: target, sftp: b.sshd, env: b.fileferryEnv,
    argv: [b.fileferry, ...args],
    command: `AWS_ENDPOINT_URL_S3=<s3rver> fileferry ${args.join(' ')}`,
    check: async (m) => checkReport(m, object.sha256),
  };
}

async function checkReport(m: Metered, expected: string): Promise<void> {
  const report = JSON.parse(m.stdout.trim().split('\n').pop() ?? '{}') as { status?: string; sha256?: string };
  if (report.status !== 'completed' || report.sha256 !== expected) throw new Error(`fileferry copy did not complete with the source's SHA-256: ${m.stdout.slice(-2000)}`);
}

/** A pipeline whose tee feeds OpenSSL's SHA-256; its digest is checked, so the ceiling really hashed every byte. */
function hashing(b: Bench, key: string, into: string): { pipe: string; check: (m: Metered) => Promise<void> } {
  const digestFile = join(b.work, `digest-${randomBytes(4).toString('hex')}`);
  return {
    pipe: `tee >(openssl dgst -sha256 -r > ${digestFile})`,
    check: async () => {
      const digest = (await readFile(digestFile, 'utf8')).split(' ')[0];
      if (digest !== b.objects.get(key)!.sha256) throw new Error(`${into}: the tee's SHA-256 is ${digest}, not the object's.`);
    },
  };
}

function sftpRuns(b: Bench, route: string, key: string, port: number, target: string, options: { sftpPut?: boolean; rcloneWithHash?: boolean; small?: string }): Run[] {
  const object = b.objects.get(key)!;
  const url = `${b.s3.endpoint}/bench/${key}`;
  const ssh = `ssh ${sshOptions(b)} -p ${port} ${b.sshd.user}@127.0.0.1 'cat > ${target}'`;
  const h = hashing(b, key, 'curl | sha256 | ssh cat');
  const common = { route, bytes: object.bytes, output: target, sftp: b.sshd, env: b.fileferryEnv };
  const runs: Run[] = [
    { ...common, name: 'ceiling: curl | ssh cat', kind: 'ceiling', command: `curl -sf ${url} | ${ssh}`, argv: shellArgv(`curl -sf ${url} | ${ssh}`) },
    { ...common, name: 'ceiling: curl | sha256 | ssh cat', kind: 'ceiling', command: `curl -sf ${url} | tee >(openssl dgst -sha256) | ${ssh}`, argv: shellArgv(`curl -sf ${url} | ${h.pipe} | ${ssh} && wait $!`), check: h.check },
  ];
  if (options.sftpPut) {
    const batch = join(b.work, `sftp-batch-${port}`);
    writeFileSync(batch, `put ${object.local!} ${target}\n`);
    const sftp = `sftp -q -b ${batch} ${sshOptions(b)} -P ${port} ${b.sshd.user}@127.0.0.1`;
    runs.push({ ...common, name: 'peer: OpenSSH sftp put (local disk)', kind: 'peer', command: `${sftp}   # batch: put <file> <target>`, argv: shellArgv(`${sftp} > /dev/null`) });
  }
  if (b.rcloneEnv) {
    const rclone = `rclone copyto --ignore-times --config /dev/null src:bench/${key} dst:${target}`;
    const env = b.rcloneEnv(port);
    if (options.rcloneWithHash) runs.push({ ...common, env, name: 'peer: rclone (remote hash check)', kind: 'peer', command: rclone, argv: shellArgv(rclone) });
    runs.push({ ...common, env, name: 'peer: rclone --sftp-disable-hashcheck', kind: 'peer', command: `${rclone} --sftp-disable-hashcheck`, argv: shellArgv(`${rclone} --sftp-disable-hashcheck`) });
  }
  // As users run it (one connection by default), and striped over BENCH_CONNECTIONS connections.
  runs.push(fileferrySftp(b, route, 'FileFerry: fileferry copy', key, port, target));
  if (b.connectionsFlag.length > 0) runs.push(fileferrySftp(b, route, `FileFerry: fileferry copy ${b.connectionsFlag.join(' ')}`, key, port, target, b.connectionsFlag));
  if (options.small) runs.push(fileferrySftp(b, route, `FileFerry: fileferry copy, ${b.objects.get(options.small)!.bytes / MiB} MiB object (RSS check)`, options.small, port, target));
  return runs;
}

function ftpRuns(b: Bench, ftp: Awaited<ReturnType<typeof startVsftpd>>, netrc: string): Run[] {
  const route = 'S3→FTP, loopback';
  const object = b.objects.get('payload.bin')!;
  const target = `${ftp.rootDir}/out.bin`;
  const url = `${b.s3.endpoint}/bench/payload.bin`;
  const put = `curl -sS --netrc-file ${netrc} -T - ftp://127.0.0.1:${ftp.port}/%2F${ftp.rootDir.slice(1)}/out.bin`;
  const h = hashing(b, 'payload.bin', 'curl | sha256 | curl -T');
  const env = { ...b.fileferryEnv, FILEFERRY_DEST_PASSWORD: ftp.password };
  const args = ['copy', 's3://bench/payload.bin', `ftp://${ftp.user}@127.0.0.1:${ftp.port}${target}`, '--allow-plain-ftp', '--overwrite', 'replace', '--json'];
  const common = { route, bytes: object.bytes, output: target, env };
  return [
    { ...common, name: 'ceiling: curl | curl -T', kind: 'ceiling', command: `curl -sf ${url} | ${put}`, argv: shellArgv(`curl -sf ${url} | ${put}`) },
    { ...common, name: 'ceiling: curl | sha256 | curl -T', kind: 'ceiling', command: `curl -sf ${url} | tee >(openssl dgst -sha256) | ${put}`, argv: shellArgv(`curl -sf ${url} | ${h.pipe} | ${put} && wait $!`), check: h.check },
    { ...common, name: 'FileFerry: fileferry copy', kind: 'fileferry', command: `AWS_ENDPOINT_URL_S3=<s3rver> FILEFERRY_DEST_PASSWORD=<vsftpd's> fileferry ${args.join(' ')}`, argv: [b.fileferry, ...args], check: (m) => checkReport(m, object.sha256) },
  ];
}

/** The cipher FileFerry's ssh2 and this sshd agree on, from sshd's own log of a small `fileferry copy`. */
async function fileferryCipher(b: Omit<Bench, 'cipher'>): Promise<string> {
  const target = `${b.sshd.rootDir}/cipher-probe.bin`;
  const probe = fileferrySftp({ ...b, cipher: '' } as Bench, 'probe', 'probe', 'probe.bin', b.sshd.port, target);
  const m = await measureOnce(probe);
  await rm(target, { force: true });
  const [cipher, ...others] = m.ciphers;
  if (!cipher || others.length > 0) throw new Error(`sshd logged ${m.ciphers.length ? m.ciphers.join(', ') : 'no cipher'} for FileFerry's connection; expected exactly one.`);
  return cipher;
}

async function main(): Promise<void> {
  const want = parts();
  const notes: string[] = [];
  const results: BenchResults = { date: new Date().toISOString(), machine: machine(), sizeMiB: SIZE_MIB, rounds: ROUNDS, rows: [], notes };
  const needsSsh = want.has('sftp') || want.has('wan') || want.has('loop');
  const work = await tempDir('bench');
  const fileferry = await fileferrySnapshot(join(work.path, 'fileferry'));
  if (readFileSync(fileferry, 'utf8').includes('tsx')) notes.push('bin/fileferry.js loaded TypeScript through tsx in this run, not compiled JavaScript.');
  console.log(`fileferry: ${fileferry} (bin/ and dist/ as built at the start, without src/, as a deployed image ships them)`);
  const s3 = await startS3rver();
  const sshd = needsSsh ? await startSshd() : undefined;
  const ftp = want.has('ftp') ? await startVsftpd({ tls: false }) : undefined;
  const proxies: DelayProxy[] = [];
  try {
    const keyPath = join(work.path, 'id_bench');
    if (sshd) {
      await writeFile(keyPath, sshd.userKey.privateKey);
      await chmod(keyPath, 0o600);
    }
    const objects = new Map<string, { bytes: number; sha256: string; local?: string }>();
    // `onDisk`: also written under work/, for the tools that upload from a local file (sftp put).
    const seed = async (key: string, mib: number, onDisk = false): Promise<void> => {
      const body = payload(mib);
      const local = onDisk ? join(work.path, key) : undefined;
      if (local) await writeFile(local, body);
      await s3.seed('bench', key, body);
      objects.set(key, { bytes: body.length, sha256: sha256(body), ...(local ? { local } : {}) });
    };
    await seed('probe.bin', 1);
    if (want.has('sftp') || want.has('ftp')) await seed('payload.bin', SIZE_MIB);
    if (want.has('sftp')) await seed('small.bin', Math.min(100, SIZE_MIB));
    if (want.has('wan')) await seed('wan.bin', WAN_MIB, true);

    const fileferryEnv: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    // s3rver speaks plain HTTP; a CA bundle meant for real endpoints only gets in the way.
    delete fileferryEnv.AWS_CA_BUNDLE;
    delete fileferryEnv.AWS_PROFILE;

    if (SIZE_MIB < 1024 || ROUNDS < 3) notes.push(`A smoke run (BENCH_MIB=${SIZE_MIB}, BENCH_ROUNDS=${ROUNDS}): start-up weighs on every row; not figures to quote.`);
    const tools = want.has('sftp') || want.has('wan') ? findPeerTools() : { notes: [] };
    notes.push(...tools.notes);
    const rcloneEnv = tools.rclone && sshd
      ? (port: number): NodeJS.ProcessEnv => ({
          ...fileferryEnv,
          RCLONE_CONFIG_SRC_TYPE: 's3', RCLONE_CONFIG_SRC_PROVIDER: 'Other', RCLONE_CONFIG_SRC_ENDPOINT: s3.endpoint,
          RCLONE_CONFIG_SRC_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          RCLONE_CONFIG_DST_TYPE: 'sftp', RCLONE_CONFIG_DST_HOST: '127.0.0.1', RCLONE_CONFIG_DST_PORT: String(port),
          RCLONE_CONFIG_DST_USER: sshd.user, RCLONE_CONFIG_DST_KEY_FILE: keyPath,
        })
      : undefined;
    const help = execFileSync(fileferry, ['copy', '--help'], { env: fileferryEnv }).toString();
    const connections = process.env.BENCH_CONNECTIONS ?? '4';
    const connectionsFlag = help.includes('--connections') && connections !== '1' ? ['--connections', connections] : [];

    const base = { work: work.path, s3, sshd: sshd!, keyPath, objects, fileferryEnv, ...(rcloneEnv ? { rcloneEnv } : {}), connectionsFlag, fileferry, notes };
    const cipher = sshd ? await fileferryCipher(base) : '';
    const b: Bench = { ...base, cipher };
    if (cipher) {
      results.fileferryCipher = cipher;
      console.log(`FileFerry's ssh2 negotiated ${cipher} with sshd (sshd's log); every ssh and sftp ceiling runs with -c ${cipher}.`);
    }

    if (want.has('sftp')) {
      console.log(`\nS3→SFTP, loopback, ${SIZE_MIB} MiB, ${ROUNDS} rounds`);
      results.rows.push(...(await bestOfInterleaved(sftpRuns(b, 'S3→SFTP, loopback', 'payload.bin', sshd!.port, `${sshd!.rootDir}/out.bin`, { rcloneWithHash: true, small: 'small.bin' }), ROUNDS)));
    }
    if (want.has('ftp')) {
      const netrc = join(work.path, 'netrc');
      await writeFile(netrc, `machine 127.0.0.1 login ${ftp!.user} password ${ftp!.password}\n`, { mode: 0o600 });
      console.log(`\nS3→FTP, loopback, ${SIZE_MIB} MiB, ${ROUNDS} rounds`);
      results.rows.push(...(await bestOfInterleaved(ftpRuns(b, ftp!, netrc), ROUNDS)));
    }
    if (want.has('wan')) {
      for (const rttMs of [50, 100]) {
        const proxy = await DelayProxy.start(sshd!.port, { oneWayDelayMs: rttMs / 2 });
        proxies.push(proxy);
        const measuredRtt = await roundTripMs(rttMs / 2);
        const route = `S3→SFTP, ${rttMs} ms round trip`;
        console.log(`\n${route} (bench/delayProxy.ts; an echo through it takes ${measuredRtt.toFixed(1)} ms), ${WAN_MIB} MiB, ${ROUNDS} rounds`);
        results.rows.push(...(await bestOfInterleaved(sftpRuns(b, route, 'wan.bin', proxy.port, `${sshd!.rootDir}/wan-out.bin`, { sftpPut: true }), ROUNDS)));
      }
    }
    if (want.has('loop')) {
      console.log('\nThe bot under load');
      results.loop = await measureBotUnderLoad({ app: join(fileferry, '..', '..'), sshd: sshd!, mib: Number(process.env.BENCH_LOOP_MIB ?? SIZE_MIB), transfers: 4, log: (s) => process.stderr.write(`  ${s}\n`) });
    }

    for (const row of results.rows) {
      if (row.cipher && cipher && row.cipher !== cipher && row.kind !== 'peer') throw new Error(`${row.route}: ${row.name} ran ${row.cipher}, not FileFerry's ${cipher}.`);
    }
    report(results);
    await writeResults(results, want.size === PARTS.length && SIZE_MIB >= 1024);
  } finally {
    await Promise.allSettled([...proxies.map((p) => p.close()), s3.stop(), sshd?.stop(), ftp?.stop()]);
    await rm(work.path, { recursive: true, force: true });
  }
}

/**
 * The round trip a client sees through a proxy with `oneWayDelayMs`: the median of a few one-byte
 * ping-pongs through a twin proxy to a local echo server, so the bench prints what it simulated.
 */
async function roundTripMs(oneWayDelayMs: number): Promise<number> {
  const { connect, createServer } = await import('node:net');
  const echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const twin = await DelayProxy.start((echo.address() as { port: number }).port, { oneWayDelayMs });
  try {
    const s = connect(twin.port, '127.0.0.1');
    await new Promise<void>((ok, fail) => s.once('connect', ok).once('error', fail));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      s.write('x');
      await new Promise((r) => s.once('data', r));
      times.push(performance.now() - t0);
    }
    s.destroy();
    return times.sort((a, b) => a - b)[2]!;
  } finally {
    await twin.close();
    await new Promise((r) => echo.close(r));
  }
}

function report(results: BenchResults): void {
  const m = results.machine;
  console.log(`\nFileFerry bench, ${results.date}: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, Linux ${m.kernel}`);
  if (results.fileferryCipher) console.log(`SSH cipher: ${results.fileferryCipher} (FileFerry's, from sshd's log; given to ssh and sftp with -c)`);
  for (const route of [...new Set(results.rows.map((r) => r.route))]) {
    const rows = results.rows.filter((r) => r.route === route);
    console.log(`\n${route}, ${rows[0]!.bytes / MiB} MiB, best of ${results.rounds}`);
    console.log('run'.padEnd(58) + 'MiB/s'.padStart(7) + 'CPU s/GiB'.padStart(11) + 'machine'.padStart(9) + 'peak RSS'.padStart(10) + '  cipher');
    for (const r of rows) {
      console.log(r.name.padEnd(58) + r.mibPerSecond.toFixed(0).padStart(7) + r.cpuSecondsPerGiB.toFixed(2).padStart(11) + r.machineCpuSecondsPerGiB.toFixed(2).padStart(9) + `${r.peakRssMiB.toFixed(0)} MiB`.padStart(10) + `  ${r.cipher ?? ''}`);
    }
    // As users run it, and striped (the row that matters over a WAN); not the RSS check's smaller object.
    for (const ff of rows.filter((r) => r.kind === 'fileferry' && r.bytes === rows[0]!.bytes)) {
      const ratios = rows.filter((r) => r.kind !== 'fileferry').map((r) => `${(ff.mibPerSecond / r.mibPerSecond).toFixed(2)}× ${r.name.replace(/^(ceiling|peer): /, '')}`);
      console.log(`${ff.name.replace(/^FileFerry: fileferry copy/, 'FileFerry')} is ${ratios.join(', ')}`);
    }
  }
  if (results.loop) {
    const l = results.loop;
    console.log(`\nBot responsiveness: ${l.what}`);
    console.log(`/healthz p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms over ${l.requests} requests; idle: p50 ${l.idle.p50Ms.toFixed(1)}, p99 ${l.idle.p99Ms.toFixed(1)}, max ${l.idle.maxMs.toFixed(1)} ms; ${l.aggregateMiBps.toFixed(0)} MiB/s in all`);
    if (l.bystander) console.log(`a bystander process that only answers, asked right after the bot each time: p50 ${l.bystander.p50Ms.toFixed(1)}, p99 ${l.bystander.p99Ms.toFixed(1)}, max ${l.bystander.maxMs.toFixed(1)} ms (the machine's floor)`);
  }
  console.log('\nEvery row is a whole process tree from spawn to exit (bench/meter.js): CPU is user+system of every process in it,');
  console.log('start-up included; peak RSS is VmHWM, summed over a pipeline\'s processes. "machine" is every process on the machine');
  console.log('per GiB over the run (client, servers, kernel): the servers share the two cores with the client.');
  for (const note of results.notes) console.log(`Note: ${note}`);
}

async function writeResults(results: BenchResults, full: boolean): Promise<void> {
  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  const svg = benchChart(results);
  await writeFile(join(dir, 'latest.svg'), svg);
  console.log(`\nResults: bench/results/latest.json, chart: bench/results/latest.svg`);
  // The README's chart changes only with a full run (every part, at least 1 GiB), not a smoke run.
  if (full) {
    await mkdir(join(ROOT, 'docs'), { recursive: true });
    await copyFile(join(dir, 'latest.svg'), join(ROOT, 'docs', 'bench.svg'));
    console.log('The README\'s chart docs/bench.svg is updated.');
  } else if (existsSync(join(ROOT, 'docs', 'bench.svg'))) {
    console.log('docs/bench.svg (the README\'s chart) is left as it was: this was not a full run.');
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
