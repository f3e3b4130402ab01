import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { destinationFactory } from '../../src/adapters/destination/destinationFactory';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { LocalIncidents } from '../../src/adapters/ticketing/localIncidents';
import type { DestinationSpec } from '../../src/domain/destinationSpec';
import type { DocumentStore } from '../../src/ports/documentStore';
import type { PushEngine, PushSend } from '../../src/ports/pushEngine';
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

/** Counts concurrent sends per destination, to check the in-flight limits from outside the runner. */
export class CountingEngine implements PushEngine {
  now = 0;
  peak = 0;
  sends = 0;
  constructor(private readonly inner: PushEngine, private readonly shared: { now: number; peak: number }) {}
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
    notifier,
    incidents,
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
