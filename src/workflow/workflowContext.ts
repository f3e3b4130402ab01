import type { Actor, RequestRecord } from '../domain/requestRecord';
import type { SavedDestination } from '../domain/savedDestination';
import type { AuditLog } from '../ports/auditLog';
import type { DestinationFactory } from '../ports/destinationFactory';
import type { DocumentStore } from '../ports/documentStore';
import type { HostKeyStore } from '../ports/hostKeyStore';
import type { IdentityProvider, SignInChallenge } from '../ports/identityProvider';
import type { Notifier } from '../ports/notifier';
import type { RequestRepository } from '../ports/requestRepository';
import type { SecretStore } from '../ports/secretStore';
import type { StorageSource } from '../ports/storageSource';
import type { SourceRef } from '../domain/transferJobSpec';
import type { TransferThreads } from '../transfer/thread/transferThreads';
import type { Ticketing } from '../ports/ticketing';
import type { WorkflowLog } from '../ports/workflowLog';
import type { TransferProgress, TransferRequest, TransferResult, TransferTuning } from '../transfer/types';
import type { ApprovalPolicy, ApproverRef } from './approvalPolicy';
import type { AuditTrail } from './auditTrail';
import type { TicketNotes } from './ticketNotes';
import type { DestinationChoices } from './destinationChoices';
import type { DestinationFormValues, ValidDestination } from './destinationValidation';
import type { TransferEnding } from './requestEnding';
import type { Screen } from './screens';
import type { SecretVault } from './secretVault';
import type { SessionTimeout, SignInSessions } from './sessions';
import type { JobHoldings, TransferJobs } from './transferJobs';

/** What the workflow is built from; the composition root supplies the adapters (the workflow imports none). */
export interface WorkflowDeps {
  repository: RequestRepository;
  hostKeys: HostKeyStore;
  identity: IdentityProvider;
  ticketing: Ticketing;
  audit: AuditLog;
  /** Small durable documents: the idempotency memo of card actions and the queued ticket writes. */
  documents: DocumentStore;
  notifier: Notifier;
  destinations: DestinationFactory;
  secrets: SecretStore;
  policy: WorkflowPolicy;
  log: WorkflowLog;
  /**
   * A reader the service itself may use for a job's source (the local folder), or undefined
   * when reads need the requester's own sign-in (S3, Azure). Lets a transfer interrupted by a
   * restart be resumed; without it such transfers can only be started again.
   */
  serviceSource?: (source: SourceRef) => StorageSource | undefined;
  /** The transfer engine; injectable for tests. Given, it runs in this thread (no worker). */
  runTransfer?: (request: TransferRequest) => Promise<TransferResult>;
  /** Worker threads that run the transfers; without them transfers run in this thread. */
  transferThreads?: TransferThreads;
  tuning?: Partial<TransferTuning>;
  now?: () => Date;
  newId?: () => string;
}

export interface WorkflowPolicy {
  assignmentGroups: readonly string[];
  /** The destinations offered by name on the card (from FILEFERRY_DESTINATIONS_FILE). */
  savedDestinations: readonly SavedDestination[];
  allowAdHoc: boolean;
  allowPlainFtp: boolean;
  /** Sign-in session wiped this long after a transfer starts. */
  autoLogoutSeconds: number;
  /** A sign-in session nobody browses with for this long ends (the browse window). Default 300. */
  browseIdleSeconds?: number;
  /** An unfinished request expires after this long without activity. Default 60 minutes. */
  requestTtlMinutes?: number;
  /** How long a failed transfer's Retry stays possible. Default 30 minutes. */
  retryWindowMinutes?: number;
  /** Approval before a protected environment's file moves (FILEFERRY_APPROVAL_*); unset: none. */
  approval?: ApprovalPolicy;
}

/** Told about transfers as they run, so the bot can update cards, metrics can count and push mode can follow. */
export interface TransferListener {
  onStarted?(record: RequestRecord): void;
  onProgress?(record: RequestRecord, progress: TransferProgress): void;
  /** The transfer ended and its end is recorded (or recording it failed: `ending.recorded` false). */
  onFinished?(record: RequestRecord, ending: TransferEnding): void;
  /**
   * Something to show that no click asked for (a sign-in finished in the background). `posted`,
   * when given, is told the new message's ID (a sign-in or browsing card the workflow keeps, see
   * `onSessionClosed`); it never rejects.
   */
  onScreen?(record: RequestRecord, screen: Screen, posted?: (activityId: string) => Promise<void>): void;
  /**
   * The request's sign-in session ended by itself (`cause`): the messages `activityIds` (its
   * sign-in and browsing cards, never the working card) are to say so in place, without buttons.
   */
  onSessionClosed?(record: RequestRecord, cause: SessionTimeout, activityIds: readonly string[]): void;
  /** A protected request waits: send the approval card to `targets` (then RequestWorkflow.approvalDelivered). */
  onApprovalRequested?(record: RequestRecord, targets: readonly ApproverRef[]): void;
  /**
   * The approval is over (decided, expired, withdrawn; `record.approval.decision` says how): the
   * approvers' cards show it, and `requesterScreen`, when given, replaces the requester's card.
   */
  onApprovalClosed?(record: RequestRecord, requesterScreen?: Screen): void;
}

/** Per-request memory-only state (see SecretVault). */
export interface Volatile {
  /** The sign-in challenge shown on the card (device code), until the sign-in completes. */
  challenge?: SignInChallenge;
  password?: string;
  hostKeyPrompt?: { host: string; port: number; fingerprint: string; keyType?: string; values: DestinationFormValues; destination: ValidDestination };
  /** What the in-process job holds beside `record.job` (for Retry). */
  holdings?: JobHoldings;
}

/** The shared parts the workflow's steps use. */
export interface WorkflowContext {
  deps: WorkflowDeps;
  log: WorkflowLog;
  choices: DestinationChoices;
  sessions: SignInSessions;
  vault: SecretVault<Volatile>;
  jobs: TransferJobs;
  audit: AuditTrail;
  /** Milestone notes on both tickets, in the background and in order. */
  notes: TicketNotes;
  listeners: TransferListener[];
  now(): Date;
  /** Bumps the revision and `updatedAt`, then stores the record. */
  save(record: RequestRecord): Promise<void>;
  /** Runs `fn` after every earlier action on the request has finished (one writer per request). */
  serial<T>(requestId: string, fn: () => Promise<T>): Promise<T>;
  /** Drops the request's idempotency memo (it reached a final state). Never rejects. */
  forget(requestId: string): Promise<void>;
}

/** Who the workflow acts for when no person does (expiry, the end of a transfer). */
export const SYSTEM: Actor = { userId: 'system', name: 'FileFerry' };
