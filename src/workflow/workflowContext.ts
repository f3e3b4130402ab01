import type { AuditLog } from '../ports/auditLog';
import type { IdentityProvider, SignInChallenge } from '../ports/identityProvider';
import type { Notifier } from '../ports/notifier';
import type { RequestRepository } from '../ports/requestRepository';
import type { Ticketing } from '../ports/ticketing';
import type { TransferProgress, TransferRequest, TransferResult, TransferTuning } from '../transfer/types';
import type { AuditTrail } from './auditTrail';
import type { DestinationCatalog } from './destinationCatalog';
import type { DestinationFormValues, ValidDestination } from './destinationValidation';
import type { HostKeyMemory } from './hostKeyMemory';
import type { RequestRecord } from '../domain/requestRecord';
import type { Screen } from './screens';
import type { SecretVault } from './secretVault';
import type { SignInSessions } from './sessions';
import type { JobSpec, TransferJobs } from './transferJobs';
import type { WorkflowLog } from '../ports/workflowLog';

/** What the workflow is built from; the composition root supplies the adapters. */
export interface WorkflowDeps {
  repository: RequestRepository;
  identity: IdentityProvider;
  ticketing: Ticketing;
  audit: AuditLog;
  notifier: Notifier;
  destinations: DestinationCatalog;
  policy: WorkflowPolicy;
  log: WorkflowLog;
  /** The transfer engine; injectable for tests. */
  runTransfer?: (request: TransferRequest) => Promise<TransferResult>;
  tuning?: Partial<TransferTuning>;
  now?: () => Date;
  newId?: () => string;
}

export interface WorkflowPolicy {
  assignmentGroups: readonly string[];
  allowAdHoc: boolean;
  allowPlainFtp: boolean;
  /** Sign-in session wiped this long after a transfer starts. */
  autoLogoutSeconds: number;
  /** An unfinished request expires after this long without activity. Default 60 minutes. */
  requestTtlMinutes?: number;
  /** How long a failed transfer's Retry stays possible. Default 30 minutes. */
  retryWindowMinutes?: number;
}

/** Told about transfers as they run, so the bot can update cards and metrics can count. */
export interface TransferListener {
  onStarted?(record: RequestRecord): void;
  onProgress?(record: RequestRecord, progress: TransferProgress): void;
  /** `screen` is the completed or failed screen. */
  onFinished?(record: RequestRecord, screen: Screen): void;
}

/** Per-request memory-only state (see SecretVault). */
export interface Volatile {
  /** The sign-in challenge shown on the card (device code), until the sign-in completes. */
  challenge?: SignInChallenge;
  password?: string;
  hostKeyPrompt?: { host: string; port: number; fingerprint: string; values: DestinationFormValues; destination: ValidDestination };
  job?: JobSpec;
}

/** The shared parts the workflow's steps use. */
export interface WorkflowContext {
  deps: WorkflowDeps;
  log: WorkflowLog;
  sessions: SignInSessions;
  vault: SecretVault<Volatile>;
  hostKeys: HostKeyMemory;
  jobs: TransferJobs;
  audit: AuditTrail;
  listeners: TransferListener[];
  now(): Date;
  /** Bumps the revision and `updatedAt`, then stores the record. */
  save(record: RequestRecord): Promise<void>;
  /** Runs `fn` after every earlier action on the request has finished (one writer per request). */
  serial<T>(requestId: string, fn: () => Promise<T>): Promise<T>;
  /** Drops the request's idempotency memo (it reached a final state). */
  forget(requestId: string): void;
}
