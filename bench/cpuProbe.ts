/**
 * `npx tsx bench/cpuProbe.ts`: what one `fileferry copy` costs as a whole process. Not a test and
 * not the bench (bench/run.ts compares against ceilings); this is the A/B tool for CPU and memory
 * work. It starts s3rver, sshd and vsftpd, seeds one object, then runs the compiled CLI as a child
 * for each build and round, interleaved so that the other load on the machine hits every build
 * alike, and prints user+system CPU seconds (getrusage of the child itself at exit, start-up
 * included), peak RSS (VmHWM) and the rate. Take the best of the rounds.
 *
 * Environment:
 *   PROBE_MIB      object size in MiB (default 1024)
 *   PROBE_DEST     sftp, ftp or both (default both)
 *   PROBE_ROUNDS   rounds (default 3)
 *   PROBE_BUILDS   comma-separated dist folders to compare (each holds src/cli/main.js);
 *                  default: ./dist, built beforehand with `npx tsc -p .`
 *   PROBE_FLAGS    node flags for the child (default: the ones in scripts/nodeFlags.js); several
 *                  sets separated by | are compared like builds
 *   PROBE_PROFILE  a folder: the child runs with --cpu-prof and writes its profile there
 *   PROBE_LOG      a file the children's output is appended to (e.g. with --trace-gc in PROBE_FLAGS)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NODE_FLAGS } from '../scripts/nodeFlags';
import { startS3rver, S3RVER_CREDENTIALS, type S3rverServer } from '../test/support/s3rverServer';
import { startSshd } from '../test/support/sshdServer';
import { startVsftpd } from '../test/support/vsftpdServer';
import { tempDir } from '../test/support/tmp';

const MiB = 1024 * 1024;

/** Loaded with -r into the child: reports its own CPU and VmHWM as it exits, whatever the exit path. */
const EXIT_STATS = `
const fs = require('node:fs');
// Peaks of V8's heap and of Buffer memory, sampled, to tell where VmHWM comes from.
const peak = { heapTotal: 0, arrayBuffers: 0, rss: 0 };
setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) if (m[k] > peak[k]) peak[k] = m[k];
}, 50).unref();
process.on('exit', (code) => {
  const r = process.resourceUsage();
  const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  fs.writeFileSync(process.env.PROBE_STATS, JSON.stringify({ code, cpu: (r.userCPUTime + r.systemCPUTime) / 1e6, user: r.userCPUTime / 1e6, sys: r.systemCPUTime / 1e6, hwmMiB: hwm / 1024, peakHeapMiB: peak.heapTotal / 1048576, peakBuffersMiB: peak.arrayBuffers / 1048576 }));
});
`;

/** Runs the CLI the way bin/fileferry.js does, from a given build. */
const RUNNER = `
const [dist, ...args] = process.argv.slice(2);
require(require('node:path').join(dist, 'src/cli/main.js')).main(args).then((code) => process.exit(code));
`;

interface Sample {
  cpu: number;
  user: number;
  sys: number;
  hwmMiB: number;
  peakHeapMiB: number;
  peakBuffersMiB: number;
  seconds: number;
}

/** A pseudo-random object streamed into s3rver, checked by MD5 (see the aws-chunked pitfall). */
async function seed(s3: S3rverServer, bucket: string, key: string, bytes: number): Promise<void> {
  await s3.admin.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  const block = randomBytes(4 * MiB);
  const md5 = createHash('md5');
  async function* body(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes; at += block.length) {
      const piece = block.subarray(0, Math.min(block.length, bytes - at));
      // A different first word per block, so no two blocks are equal (misordering would show).
      const out = Buffer.from(piece);
      out.writeUInt32BE(at / block.length, 0);
      md5.update(out);
      yield out;
    }
  }
  const put = await s3.admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from(body()), ContentLength: bytes }));
  if (put.ETag?.replace(/"/g, '') !== md5.digest('hex')) throw new Error(`s3rver stored ${key} re-framed (ETag ${put.ETag})`);
}

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  const mib = Number(process.env.PROBE_MIB ?? 1024);
  const rounds = Number(process.env.PROBE_ROUNDS ?? 3);
  const dests = (process.env.PROBE_DEST ?? 'both') === 'both' ? ['sftp', 'ftp'] : [process.env.PROBE_DEST!];
  const builds = (process.env.PROBE_BUILDS ?? 'dist').split(',').map((b) => resolve(b));
  const flagSets = (process.env.PROBE_FLAGS ?? NODE_FLAGS.join(' ')).split('|').map((set) => set.split(' ').filter(Boolean));
  const work = await tempDir('cpuprobe');
  const s3 = await startS3rver();
  const sshd = dests.includes('sftp') ? await startSshd() : undefined;
  const ftp = dests.includes('ftp') ? await startVsftpd() : undefined;
  try {
    const keyPath = join(work.path, 'id');
    const exitStats = join(work.path, 'exitStats.js');
    const runner = join(work.path, 'runner.js');
    const statsFile = join(work.path, 'stats.json');
    await writeFile(exitStats, EXIT_STATS);
    await writeFile(runner, RUNNER);
    if (sshd) await writeFile(keyPath, sshd.userKey.privateKey, { mode: 0o600 });
    process.stderr.write(`seeding ${mib} MiB…\n`);
    await seed(s3, 'probe', 'payload.bin', mib * MiB);

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      // Builds compiled outside the checkout (tsc --outDir /tmp/…) still find its node_modules.
      NODE_PATH: resolve('node_modules'),
      HOME: work.path,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      PROBE_STATS: statsFile,
      ...(ftp ? { FILEFERRY_DEST_PASSWORD: ftp.password } : {}),
    };
    const targets: Record<string, string[]> = {};
    if (sshd) targets.sftp = [`sftp://${sshd.user}@127.0.0.1:${sshd.port}${sshd.rootDir}/out.bin`, '--identity', keyPath, '--host-key', sshd.hostKeyFingerprint];
    if (ftp) targets.ftp = [`ftp://${ftp.user}@127.0.0.1:${ftp.port}${ftp.rootDir}/out.bin`, '--allow-plain-ftp'];

    const samples = new Map<string, Sample[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const dest of dests) {
        for (const build of builds) for (const flags of flagSets) {
          const profile = process.env.PROBE_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.env.PROBE_PROFILE)] : [];
          const args = [...flags, ...profile, '-r', exitStats, runner, build, 'copy', 's3://probe/payload.bin', ...targets[dest]!, '--overwrite', 'replace', '--json'];
          await rm(statsFile, { force: true });
          const started = performance.now();
          const run = await runChild(args, env);
          if (process.env.PROBE_LOG) await appendFile(process.env.PROBE_LOG, `== ${dest} ${build} ${flags.join(' ')}\n${run.stdout}${run.stderr}`);
          const seconds = (performance.now() - started) / 1000;
          if (run.code !== 0) throw new Error(`${dest} with ${build} exited ${run.code}: ${run.stderr.slice(-2000)} ${run.stdout.slice(-2000)}`);
          const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as { bytes: number; status: string };
          if (report.status !== 'completed' || report.bytes !== mib * MiB) throw new Error(`${dest}: ${run.stdout}`);
          const stats = JSON.parse(await readFile(statsFile, 'utf8')) as Sample;
          const sample = { ...stats, seconds };
          const name = `${dest} ${build}${flagSets.length > 1 ? ` [${flags.join(' ')}]` : ''}`;
          samples.set(name, [...(samples.get(name) ?? []), sample]);
          process.stderr.write(
            `round ${round} ${name}: cpu ${sample.cpu.toFixed(2)} s (user ${sample.user.toFixed(2)} sys ${sample.sys.toFixed(2)}), ` +
              `VmHWM ${sample.hwmMiB.toFixed(0)} MiB (heap ${sample.peakHeapMiB.toFixed(0)}, buffers ${sample.peakBuffersMiB.toFixed(0)}), ${(mib / seconds).toFixed(0)} MiB/s\n`,
          );
        }
      }
    }
    const gib = mib / 1024;
    const rows = [...samples].map(([name, list]) => ({
      run: name,
      bestCpuSecondsPerGiB: Math.min(...list.map((s) => s.cpu)) / gib,
      medianCpuSecondsPerGiB: median(list.map((s) => s.cpu)) / gib,
      bestPeakRssMiB: Math.min(...list.map((s) => s.hwmMiB)),
      worstPeakRssMiB: Math.max(...list.map((s) => s.hwmMiB)),
      bestMiBps: Math.max(...list.map((s) => mib / s.seconds)),
    }));
    process.stdout.write(JSON.stringify({ mib, rounds, rows }, null, 2) + '\n');
  } finally {
    await Promise.allSettled([s3.stop(), sshd?.stop(), ftp?.stop(), work.remove()]);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
