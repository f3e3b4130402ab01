import { ConfigError, type FerryError } from '../domain/errors';
import { stripingConnections, type DestinationSpec } from '../domain/destinationSpec';
import type { SavedDestination } from '../domain/savedDestination';
import type { AuditLog } from '../ports/auditLog';
import type { Destination } from '../ports/destination';
import type { DocumentStore } from '../ports/documentStore';
import type { Incidents } from '../ports/incidents';
import type { Notifier } from '../ports/notifier';
import type { ObjectEventTrigger } from '../ports/objectEvents';
import type { PgpEncryptor } from '../ports/pgp';
import type { PushEngine } from '../ports/pushEngine';
import type { StorageSource } from '../ports/storageSource';
import type { WorkflowLog } from '../ports/workflowLog';
import type { SecretStore } from '../ports/secretStore';
import type { TransferThreads } from '../transfer/thread/transferThreads';
import type { TransferTuning } from '../transfer/types';
import { FileFerryPushEngine } from './fileFerryPushEngine';
import type { PushListener } from './pushAbilities';
import { PollTrigger } from './pollTrigger';
import { loadPushRules, type PushRuleSet } from './pushRules';
import { PushRunner } from './pushRunner';
import type { WatchedPlace } from './sourceUri';

/** The concrete backends push mode needs, as the registry's `pushKinds` builds them. */
export interface PushBackends {
  source(place: WatchedPlace): StorageSource;
  destination(spec: DestinationSpec): Destination;
  /** Resolves the saved destinations' secret references (transfers in worker threads open their destination from its spec). */
  secrets: SecretStore;
  pgp(): PgpEncryptor;
  transferFamily(connectorId: string): PushEngine;
  sqs(queueUrl: string, visibilityTimeoutSeconds: number): ObjectEventTrigger;
  sns(topicArns: string[]): ObjectEventTrigger & SnsRoute;
  incidents(): Incidents;
}

export interface SnsRoute {
  handle(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<{ status: number; body?: string }>;
}

export interface PushModeDeps {
  destinations: SavedDestination[];
  documents: DocumentStore;
  audit: AuditLog;
  notifier: Notifier;
  log: WorkflowLog;
  listener?: PushListener;
  tuning?: Partial<TransferTuning>;
  /** Worker threads for the transfers (the bot's root passes its own); without them they run in this thread. */
  threads?: TransferThreads;
}

export interface PushMode {
  rules: PushRuleSet;
  runner: PushRunner;
  triggers: ObjectEventTrigger[];
  /** Present when a rule has an SNS trigger: mount it at POST /api/push/sns. */
  sns?: SnsRoute;
  /** Starts the runner, then every trigger (a bad queue or folder fails here, naming it). */
  start(): Promise<void>;
  /** Stops the triggers first (no new events), then the runner. */
  stop(): Promise<void>;
}

/**
 * Push mode from a rules file: each rule's source, engine (FileFerry's, or Transfer Family's) and
 * triggers (SQS queues shared by rules once, one SNS endpoint for all topics, a poll per rule),
 * and the runner over the store's documents.
 */
export async function buildPushMode(rulesFile: string, deps: PushModeDeps, backends: PushBackends): Promise<PushMode> {
  const saved = new Map(deps.destinations.map((d) => [d.name, d]));
  const rules = loadPushRules(rulesFile, [...saved.keys()]);
  const pgp = rules.rules.some((r) => r.pgp) ? backends.pgp() : undefined;
  for (const rule of rules.rules) {
    if (!rule.pgp) continue;
    try {
      await pgp!.checkPublicKey(rule.pgp.publicKey);
    } catch (e) {
      const error = e as FerryError;
      throw new ConfigError(`push rule "${rule.name}": pgp.publicKeyFile: ${error.message}`, error.hint || 'Give the recipient\'s armored public key.');
    }
  }
  const sources = new Map(rules.rules.map((r) => [r.name, backends.source(r.place)]));
  const engines = new Map<string, PushEngine>();
  for (const rule of rules.rules) {
    const spec = saved.get(rule.destination.name)!.spec;
    engines.set(rule.name, rule.engine === 'transfer-family'
      ? backends.transferFamily(rule.connectorId!)
      : new FileFerryPushEngine({
        source: sources.get(rule.name)!,
        destination: backends.destination(spec),
        ...(deps.threads ? { thread: { threads: deps.threads, spec, secrets: backends.secrets } } : {}),
        overwrite: rule.destination.overwrite,
        connections: stripingConnections(spec),
        ...(rule.pgp ? { pgp: { encryptor: pgp!, publicKey: rule.pgp.publicKey } } : {}),
        ...(deps.tuning ? { tuning: deps.tuning } : {}),
      }));
  }
  const runner = new PushRunner({
    rules: rules.rules,
    settings: rules.settings,
    documents: deps.documents,
    sourceFor: (rule) => sources.get(rule.name)!,
    engineFor: (rule) => engines.get(rule.name)!,
    destinationFolder: (rule) => saved.get(rule.destination.name)!.spec.folder,
    audit: deps.audit,
    notifier: deps.notifier,
    incidents: backends.incidents(),
    log: deps.log,
    ...(deps.listener ? { listener: deps.listener } : {}),
  });

  const triggers: ObjectEventTrigger[] = [];
  const queues = new Map<string, number>();
  for (const rule of rules.rules) {
    const sqs = rule.triggers.sqs;
    // The message is deleted once the event is recorded (not after the stability wait), so the
    // visibility timeout only has to outlast one store write; a longer one is the rule's choice.
    if (sqs) queues.set(sqs.queueUrl, Math.max(queues.get(sqs.queueUrl) ?? 0, sqs.visibilityTimeout ?? 120));
    if (rule.triggers.poll) {
      triggers.push(new PollTrigger({ name: rule.name, place: rule.place, source: sources.get(rule.name)!, documents: deps.documents, intervalSeconds: rule.triggers.poll.seconds, log: deps.log }));
    }
  }
  for (const [queueUrl, visibility] of queues) triggers.push(backends.sqs(queueUrl, visibility));
  const topics = rules.rules.flatMap((r) => (r.triggers.sns ? [r.triggers.sns.topicArn] : []));
  const sns = topics.length ? backends.sns(topics) : undefined;
  if (sns) triggers.push(sns);

  const mode: PushMode = {
    rules,
    runner,
    triggers,
    ...(sns ? { sns } : {}),
    async start() {
      runner.start();
      try {
        for (const t of triggers) await t.start(runner.handle);
      } catch (e) {
        await mode.stop();
        throw e;
      }
    },
    async stop() {
      for (const t of triggers) await t.stop().catch((e: unknown) => deps.log.warn({ err: (e as Error)?.message }, 'push: a trigger did not stop cleanly'));
      await runner.stop();
    },
  };
  return mode;
}
