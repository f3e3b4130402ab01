/**
 * For A/B work on the engine only (`npm run bench:compare`, runs ff*): one transfer through the
 * engine and adapters in its own process, without the CLI around them, so a change to the engine
 * can be compared with itself. Not what users run: `npm run bench` measures the `fileferry`
 * command. Reads a JSON job from argv[2], prints one JSON line: result, cpuSeconds, peakRssMiB.
 */
import { runTransfer } from '../src/transfer/engine';
import type { StorageSource } from '../src/ports/storageSource';
import type { Destination } from '../src/ports/destination';

export interface BenchJob {
  source: { kind: 's3'; endpoint: string; accessKeyId: string; secretAccessKey: string } | { kind: 'azblob'; connectionString: string } | { kind: 'local'; root: string };
  container: string;
  key: string;
  destination:
    | { kind: 'sftp'; port: number; username: string; privateKeyPath: string; fingerprint: string }
    | { kind: 'ftp'; port: number; username: string; passwordEnv: string };
  remotePath: string;
}

/** Loads an adapter module on first use, so a run carries only the SDKs it needs. */
function load<T>(path: string): T {
  return require(path) as T;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as BenchJob;
  // Adapters load lazily, so a run carries only the SDKs it uses (as the bot's registry does).
  const source: StorageSource =
    job.source.kind === 'local'
      ? new (load<typeof import('../src/adapters/source/localSource')>('../src/adapters/source/localSource').LocalSource)(job.source.root)
      : job.source.kind === 's3'
      ? new (load<typeof import('../src/adapters/source/s3Source')>('../src/adapters/source/s3Source').S3Source)({ endpoint: job.source.endpoint, region: 'us-east-1', credentials: { accessKeyId: job.source.accessKeyId, secretAccessKey: job.source.secretAccessKey } })
      : new (load<typeof import('../src/adapters/source/azureBlobSource')>('../src/adapters/source/azureBlobSource').AzureBlobSource)({ connectionString: job.source.connectionString });
  const d = job.destination;
  const destination: Destination =
    d.kind === 'sftp'
      ? new (load<typeof import('../src/adapters/destination/sftpDestination')>('../src/adapters/destination/sftpDestination').SftpDestination)({
          host: '127.0.0.1',
          port: d.port,
          username: d.username,
          privateKey: require('node:fs').readFileSync(d.privateKeyPath),
          hostKey: { fingerprint: d.fingerprint },
          maxInFlight: process.env.BENCH_SFTP_IN_FLIGHT ? Number(process.env.BENCH_SFTP_IN_FLIGHT) : undefined,
        })
      : new (load<typeof import('../src/adapters/destination/ftpDestination')>('../src/adapters/destination/ftpDestination').FtpDestination)({ protocol: 'ftp', host: '127.0.0.1', port: d.port, username: d.username, password: process.env[d.passwordEnv]!, allowPlaintext: true });
  if (process.env.BENCH_TRACE_MEM) {
    setInterval(() => {
      if (process.env.BENCH_TRACE_MEM === "gc") (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      process.stderr.write(`rss ${(m.rss / 2 ** 20).toFixed(0)} heap ${(m.heapUsed / 2 ** 20).toFixed(0)} external ${(m.external / 2 ** 20).toFixed(0)} arrayBuffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)}\n`);
    }, Number(process.env.BENCH_TRACE_MS ?? 250)).unref();
  }
  const cpuBefore = process.cpuUsage();
  const result = await runTransfer({ source, container: job.container, key: job.key, destination, remotePath: job.remotePath, overwrite: 'replace', remoteHash: false,
    // BENCH_TUNING='{"readConcurrency":2}' tries other engine settings without editing code.
    tuning: process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : undefined });
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(
    JSON.stringify({ result, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: peakRssMiB() }) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${e?.code ?? ''} ${e?.message ?? e}\n`);
    process.exit(1);
  },
);

/**
 * This process's own peak RSS. Not `resourceUsage().maxRSS`: Linux carries ru_maxrss across
 * fork+exec, so a child started by a parent holding a 1 GiB payload "peaks" at the parent's size.
 * VmHWM belongs to the address space, which exec replaces.
 */
function peakRssMiB(): number {
  const status = require('node:fs').readFileSync('/proc/self/status', 'utf8') as string;
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kib / 1024;
}
