import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { destinationFactory } from '../../src/adapters/destination/destinationFactory';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { LocalIncidents } from '../../src/adapters/ticketing/localIncidents';
import type { DestinationSpec } from '../../src/domain/destinationSpec';
import type { DocumentStore } from '../../src/ports/documentStore';
import type { Incidents } from '../../src/ports/incidents';
import type { Notifier } from '../../src/ports/notifier';
import type { PushEngine, PushSend, PushSent } from '../../src/ports/pushEngine';
import { canCheckLanded } from '../../src/push/pushAbilities';
import type { StorageSource } from '../../src/ports/storageSource';
import { FileFerryPushEngine } from '../../src/push/fileFerryPushEngine';
import { parsePushRules, type PushRule } from '../../src/push/pushRules';
import { PushRunner } from '../../src/push/pushRunner';
import type { SshdServer } from './sshdServer';

export const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** The SFTP spec of the test sshd, password by reference (resolved by the harness's secret store). */
export function sshdSpec(sshd: SshdServer, port = sshd.port): DestinationSpec {
  return { protocol: 'sftp', host: '127.0.0.1', port, username: sshd.user, folder: sshd.rootDir, hostKey: { fingerprint: sshd.hostKeyFingerprint }, passwordRef: 'env:PUSH_TEST_SFTP_PASSWORD' };
}

/**
 * Counts concurrent sends per destination, to check the in-flight limits from outside the runner.
 * It passes the inner engine's landed check through (and counts it), so takeovers run as in production.
 */
export class CountingEngine implements PushEngine {
  landedChecks = 0;
  now = 0;
  peak = 0;
  sends = 0;
  constructor(private readonly inner: PushEngine, private readonly shared: { now: number; peak: number }) {}
  async landed(job: PushSend): Promise<PushSent | undefined> {
    this.landedChecks++;
    return canCheckLanded(this.inner) ? this.inner.landed(job) : undefined;
  }

  async send(job: PushSend) {
    this.sends++;
    this.now++;
    this.shared.now++;
    this.peak = Math.max(this.peak, this.now);
    this.shared.peak = Math.max(this.shared.peak, this.shared.now);
    try {
      return await this.inner.send(job);
    } finally {
      this.now--;
      this.shared.now--;
    }
  }
}

export interface Harness {
  runner: PushRunner;
  rules: PushRule[];
  audit: JsonlAudit;
  notifier: LogNotifier;
  incidents: LocalIncidents;
  documents: DocumentStore;
  engines: Map<string, CountingEngine>;
  global: { now: number; peak: number };
}

/** A runner over real adapters: `rulesJson` as a rules file, destinations by name, sources by rule. */
export function pushHarness(options: {
  dir: string;
  rulesJson: unknown;
  destinations: Record<string, DestinationSpec>;
  source: (rule: PushRule) => StorageSource;
  password: string;
  documents?: DocumentStore;
  now?: () => Date;
  /** Where final failures open incidents (default: the local desk in `dir`). */
  incidents?: Incidents;
  /** Where cards go (default: the notifier in `notifier`, which keeps them). */
  notifier?: Notifier;
}): Harness {
  const set = parsePushRules(JSON.stringify(options.rulesJson), 'rules.json', Object.keys(options.destinations));
  const secrets = { resolve: async () => options.password };
  const audit = new JsonlAudit(join(options.dir, 'audit.jsonl'));
  const notifier = new LogNotifier(quietLog);
  const incidents = new LocalIncidents(join(options.dir, 'incidents.jsonl'));
  const documents = options.documents ?? new MemoryDocuments();
  const global = { now: 0, peak: 0 };
  const engines = new Map<string, CountingEngine>();
  for (const rule of set.rules) {
    const spec = options.destinations[rule.destination.name]!;
    engines.set(rule.name, new CountingEngine(new FileFerryPushEngine({ source: options.source(rule), destination: destinationFactory.open(spec, { secrets }), overwrite: rule.destination.overwrite, tuning: { idleTimeoutMs: 20_000 } }), global));
  }
  const runner = new PushRunner({
    rules: set.rules,
    settings: set.settings,
    documents,
    sourceFor: options.source,
    engineFor: (rule) => engines.get(rule.name)!,
    destinationFolder: (rule) => options.destinations[rule.destination.name]!.folder,
    audit,
    notifier: options.notifier ?? notifier,
    incidents: options.incidents ?? incidents,
    log: quietLog,
    ...(options.now ? { now: options.now } : {}),
  });
  return { runner, rules: set.rules, audit, notifier, incidents, documents, engines, global };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The environment of a push child process: this one without any FileFerry, bot or ServiceNow setting, plus `settings`. */
export function pushProcessEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(FILEFERRY_|Microsoft|SERVICENOW_|COSMOS_|AWS_ENDPOINT_URL)/.test(k) || ['PORT', 'NODE_ENV', 'LOG_LEVEL'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'info', ...settings };
}

export interface PushProcess {
  readonly pid: number;
  /** stdout and stderr so far (the last 100 000 characters), to explain a failure. */
  output(): string;
  /** Sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (push mode stops cleanly), then SIGKILL after 5 s; never throws. */
  stop(): Promise<void>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * `node bin/fileferry.js push run --rules FILE` as an operator runs it (the compiled runtime), in
 * its own process so a test can SIGKILL it; resolves once it says it runs its rules.
 */
export async function startPushProcess(rulesFile: string, env: NodeJS.ProcessEnv, startTimeoutMs = 120_000): Promise<PushProcess> {
  const child = spawn(process.execPath, ['bin/fileferry.js', 'push', 'run', '--rules', rulesFile], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      done();
    }),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (running()) child.kill(signal);
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (!running()) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    try {
      await kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`push run did not start within ${startTimeoutMs} ms. Output:\n${output}`)), startTimeoutMs);
      const onData = (data: Buffer): void => {
        output = (output + data.toString()).slice(-100_000);
        if (/fileferry push: running/.test(output)) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      void exited.then(() => {
        clearTimeout(timer);
        fail(new Error(`push run exited (${child.exitCode ?? child.signalCode}) before it ran. Output:\n${output}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid!, output: () => output, kill, stop };
}
