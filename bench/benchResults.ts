/**
 * What one `npm run bench` measured, as bench/results/latest.json holds it and bench/benchChart.ts
 * draws it. Every figure keeps the command that produced it, so a reader can rerun any row.
 */

/** What a row stands for: FileFerry itself, a ceiling (a shell pipeline doing the least work), a peer tool, or an A/B reference. */
export type RowKind = 'fileferry' | 'ceiling' | 'peer' | 'reference';

export interface BenchRow {
  /** The route and link the row belongs to, e.g. 'S3→SFTP, loopback' or 'S3→SFTP, 50 ms round trip'. */
  route: string;
  name: string;
  kind: RowKind;
  /** The exact command that was timed (secrets replaced by where they came from). */
  command: string;
  bytes: number;
  /** Wall time of the fastest round, start-up included. */
  seconds: number;
  mibPerSecond: number;
  /** User + system CPU of the client process tree (start-up included), fastest round. */
  cpuSeconds: number;
  cpuSecondsPerGiB: number;
  /** Peak RSS of the client: VmHWM of the process, summed over the processes of a pipeline. */
  peakRssMiB: number;
  /** CPU seconds per GiB of every process on the machine over the run (client, servers, kernel): the cores are shared. */
  machineCpuSecondsPerGiB: number;
  /** The SSH cipher sshd logged for this run's connections, for SFTP rows. */
  cipher?: string;
  /** MiB/s of every round, in order. */
  roundsMiBps: number[];
}

export interface BenchMachine {
  cpuModel: string;
  cores: number;
  node: string;
  kernel: string;
}

/** /healthz latency of the bot while it moves bytes (bench/botUnderLoad.ts). */
export interface LoopResult {
  /** Exactly what was measured, in words. */
  what: string;
  transfers: number;
  bytesEach: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The same probe with the bot idle, before the transfers. */
  idle: { requests: number; p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * A process that only answers /healthz, asked right after the bot each time while the transfers
   * run: what the machine gives any process then (its two cores are shared with sshd and the bench).
   */
  bystander?: { requests: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** All transfers' bytes over the time from the first start to the last completion. */
  aggregateMiBps: number;
}

export interface BenchResults {
  date: string;
  machine: BenchMachine;
  sizeMiB: number;
  rounds: number;
  /** The cipher FileFerry's ssh2 negotiated with sshd, which every SFTP ceiling was given. */
  fileferryCipher?: string;
  rows: BenchRow[];
  loop?: LoopResult;
  /** Things the reader must know to read the figures (a peer that is missing, a label). */
  notes: string[];
}
