/**
 * `npm run bench:compare -- RUN...`: A/B comparisons for performance work. Where `npm run bench`
 * prints one table, this starts the servers once and then runs the named runs in turn, round after
 * round (interleaved, so a machine that slows down mid-way slows every variant alike), and prints
 * each run's median. On this kind of 2-core VM one run can differ from the next by ±20%; a change
 * is only real when its median moves across several rounds.
 *
 * Runs: curlssh, curlT, fastput (ceilings); curlsha and curlTsha (curlssh and curlT plus an OpenSSL
 * SHA-256 of the stream on a tee); ffsftp, ffftp, fflocal (FileFerry's engine S3→SFTP, S3→FTP, local
 * file→SFTP, in bench/transferChild.ts: the engine and adapters alone, without the CLI around them,
 * for A/B work on the engine; `npm run bench` measures the `fileferry` command instead); ffcli (the
 * `fileferry copy` command S3→SFTP, as `npm run bench` runs it). A run may carry Node flags for
 * FileFerry's process and engine tuning:
 * 'ffsftp@--max-semi-space-size=8', 'ffsftp:{"readConcurrency":1}', or both in that order.
 * Environment: COMPARE_ROUNDS (default 3), BENCH_MIB (default 1024), BENCH_SFTP_IN_FLIGHT,
 * BENCH_NODE_FLAGS (Node flags for every FileFerry run, such as '--cpu-prof --cpu-prof-dir=/tmp/prof').
 *
 * Each line also shows the whole machine's CPU per GiB (/proc/stat) and the servers' own share:
 * with the client and the servers on the same two cores, total CPU is often what sets the rate.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startS3rver, S3RVER_CREDENTIALS } from '../test/support/s3rverServer';
import { startSshd } from '../test/support/sshdServer';
import { startVsftpd } from '../test/support/vsftpdServer';
import { tempDir } from '../test/support/tmp';
import type { BenchJob } from './transferChild';
import { machineCpu, settle, sh } from './machine';
import { NODE_FLAGS } from '../scripts/nodeFlags';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MIB ?? 1024) * MiB;
const GIB = SIZE / 1024 / MiB;
// sshd's per-connection processes are not counted: their CPU reaches no process this can read once they exit.
const SERVERS = ['s3rver', 'vsftpd'];

/** CPU ticks per server name, counting the reaped children of each process too. */
async function serverTicks(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      const name = SERVERS.find((s) => command.includes(s));
      if (!name) continue;
      const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

async function main(): Promise<void> {
  const runs = process.argv.slice(2);
  if (runs.length === 0) throw new Error('Name the runs to compare, e.g. npm run bench:compare -- ffsftp curlssh');
  const work = await tempDir('compare');
  const s3 = await startS3rver();
  const sshd = await startSshd();
  const ftp = await startVsftpd({ tls: false });
  try {
    const body = randomBytes(SIZE);
    await s3.seed('bench', 'payload.bin', body);
    const localFile = join(work.path, 'local', 'bench', 'payload.bin');
    await mkdir(join(work.path, 'local', 'bench'), { recursive: true });
    await writeFile(localFile, body);
    const keyPath = join(work.path, 'id_bench');
    await writeFile(keyPath, sshd.userKey.privateKey);
    await chmod(keyPath, 0o600);
    const meterFile = join(work.path, 'meter.json');
    const netrc = join(work.path, 'netrc');
    await writeFile(netrc, `machine 127.0.0.1 login ${ftp.user} password ${ftp.password}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, FTP_BENCH_PASSWORD: ftp.password };
    const s3Url = `${s3.endpoint}/bench/payload.bin`;
    const target = `${sshd.rootDir}/out.bin`;
    const sshOptions = `-p ${sshd.port} -i ${keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
    const s3Source = { kind: 's3' as const, endpoint: s3.endpoint, ...S3RVER_CREDENTIALS };
    const sftpDest = { kind: 'sftp' as const, port: sshd.port, username: sshd.user, privateKeyPath: keyPath, fingerprint: sshd.hostKeyFingerprint };
    // $BENCH_NODE_FLAGS (from the environment, or a run's '@…' part) reaches FileFerry's process only.
    const transfer = (job: BenchJob): string => `node ${NODE_FLAGS.join(' ')} $BENCH_NODE_FLAGS ${join(__dirname, '..', 'dist', 'bench', 'transferChild.js')} '${JSON.stringify(job)}'`;
    const fastPut = [
      `const { Client } = require('ssh2'); const c = new Client();`,
      `c.on('ready', () => c.sftp((e, s) => s.fastPut(${JSON.stringify(localFile)}, ${JSON.stringify(target)}, { chunkSize: 261120, concurrency: 64 }, (err) => { c.end(); if (err) process.exit(1); })));`,
      `c.connect({ host: '127.0.0.1', port: ${sshd.port}, username: ${JSON.stringify(sshd.user)}, privateKey: require('fs').readFileSync(${JSON.stringify(keyPath)}) });`,
    ].join(' ');
    const ssh = `ssh ${sshOptions} ${sshd.user}@127.0.0.1 'cat > ${target}'`;
    const ftpPut = `curl -sS --netrc-file ${netrc} -T - ftp://127.0.0.1:${ftp.port}/%2F${ftp.rootDir.slice(1)}/out.bin`;
    // The ceiling plus the SHA-256 every FileFerry transfer must compute: what hashing alone costs here.
    const sha = `tee >(openssl dgst -sha256 > /dev/null)`;
    const commands: Record<string, string> = {
      curlssh: `curl -sf ${s3Url} | ${ssh}`,
      curlsha: `curl -sf ${s3Url} | ${sha} | ${ssh}`,
      curlT: `curl -sf ${s3Url} | ${ftpPut}`,
      curlTsha: `curl -sf ${s3Url} | ${sha} | ${ftpPut}`,
      fastput: `node -e "${fastPut.replace(/"/g, '\\"')}"`,
      ffsftp: transfer({ source: s3Source, container: 'bench', key: 'payload.bin', destination: sftpDest, remotePath: target }),
      ffftp: transfer({ source: s3Source, container: 'bench', key: 'payload.bin', destination: { kind: 'ftp', port: ftp.port, username: ftp.user, passwordEnv: 'FTP_BENCH_PASSWORD' }, remotePath: `${ftp.rootDir}/out.bin` }),
      fflocal: transfer({ source: { kind: 'local', root: join(work.path, 'local') }, container: 'bench', key: 'payload.bin', destination: sftpDest, remotePath: target }),
      // The command users run (compiled by bin/fileferry.js's own check); BENCH_NODE_FLAGS reaches it too.
      // Under bench/meter.js, as `npm run bench` measures it, so the line shows its CPU and peak RSS.
      ffcli: `env -u AWS_CA_BUNDLE AWS_ENDPOINT_URL_S3=${s3.endpoint} AWS_ACCESS_KEY_ID=${S3RVER_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${S3RVER_CREDENTIALS.secretAccessKey} AWS_REGION=us-east-1 node ${join(__dirname, 'meter.js')} ${meterFile} node ${NODE_FLAGS.join(' ')} $BENCH_NODE_FLAGS ${join(__dirname, '..', 'bin', 'fileferry.js')} copy s3://bench/payload.bin sftp://${sshd.user}@127.0.0.1:${sshd.port}${target} --identity ${keyPath} --host-key ${sshd.hostKeyFingerprint} --overwrite replace --json > /dev/null && cat ${meterFile}`,
    };
    for (const run of runs) {
      if (!commands[run.split(/[:@]/)[0]!]) throw new Error(`Unknown run ${run}; known: ${Object.keys(commands).join(', ')}`);
    }
    const rates = new Map<string, number[]>();
    const rounds = Number(process.env.COMPARE_ROUNDS ?? 3);
    for (let round = 1; round <= rounds; round++) {
      for (const run of runs) {
        const [named, tuning] = run.split(/:(.*)/s) as [string, string | undefined];
        const [name, nodeFlags] = named.split(/@(.*)/s) as [string, string | undefined];
        await settle([target, `${ftp.rootDir}/out.bin`]);
        const serversBefore = await serverTicks();
        const before = machineCpu();
        const t0 = performance.now();
        const out = await sh(commands[name]!, { ...env, ...(tuning ? { BENCH_TUNING: tuning } : {}), ...(nodeFlags ? { BENCH_NODE_FLAGS: nodeFlags } : {}) });
        const seconds = (performance.now() - t0) / 1000;
        const after = machineCpu();
        const serversAfter = await serverTicks();
        const rate = SIZE / MiB / seconds;
        rates.set(run, [...(rates.get(run) ?? []), rate]);
        const idle = 1 - (after.busy - before.busy) / (after.total - before.total);
        const servers = [...serversAfter]
          .map(([server, ticks]) => [server, (ticks - (serversBefore.get(server) ?? 0)) / 100 / GIB] as const)
          .filter(([, perGib]) => perGib >= 0.05)
          .map(([server, perGib]) => `${server} ${perGib.toFixed(2)}`)
          .join(', ');
        const last = out.trim().split('\n').pop() ?? '';
        const client = last.startsWith('{') ? JSON.parse(last) as { cpuSeconds: number; peakRssMiB: number } : undefined;
        console.log(
          `round ${round}  ${run.padEnd(24)} ${rate.toFixed(0).padStart(5)} MiB/s  machine ${((after.busy - before.busy) / GIB).toFixed(2)} CPU s/GiB, ${(idle * 100).toFixed(0)}% idle` +
            (client ? `  client ${(client.cpuSeconds / GIB).toFixed(2)} s/GiB, ${client.peakRssMiB.toFixed(0)} MiB` : '') +
            (servers ? `  servers: ${servers}` : ''),
        );
      }
    }
    console.log('');
    for (const [run, list] of rates) {
      const sorted = [...list].sort((a, b) => a - b);
      console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0).padStart(5)} MiB/s  ${run}  (${sorted.map((r) => r.toFixed(0)).join(' ')})`);
    }
  } finally {
    await Promise.allSettled([s3.stop(), sshd.stop(), ftp.stop()]);
    await rm(work.path, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
