import type { FailureCode } from './errors';
import type { TicketPair } from './tickets';
import type { TransferJobSpec } from './transferJobSpec';
import type { OverwritePolicy, VerificationLevel } from './transferTerms';

/**
 * The life of one request. Moves only forward:
 * draft → ticketed → signed-in → source-chosen → destination-set → [awaiting-approval] → transferring →
 * completed | failed | cancelled | expired (failed → transferring again on Retry). A request in a
 * protected environment waits for an approver between confirm and transfer.
 */
export type RequestState =
  | 'draft'
  | 'ticketed'
  | 'signed-in'
  | 'source-chosen'
  | 'destination-set'
  /** Confirmed in a protected environment; no byte moves until an approver decides (see `approval`). */
  | 'awaiting-approval'
  | 'transferring'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'expired';

export const OPEN_STATES: readonly RequestState[] = ['draft', 'ticketed', 'signed-in', 'source-chosen', 'destination-set', 'awaiting-approval'];
export const FINAL_STATES: readonly RequestState[] = ['completed', 'cancelled', 'expired'];
/** States in which nothing is in progress (a failed request may still be retried). */
export const ENDED_STATES: readonly RequestState[] = ['completed', 'failed', 'cancelled', 'expired'];

/** Who acts: the user's stable ID (Entra object ID, or the channel ID in local mode) and tenant. */
export interface Actor {
  userId: string;
  tenantId?: string;
  name: string;
  /** The UPN (or email) Teams reports for the user; the sign-in's identity check compares it. */
  upn?: string;
}

export interface RequestFormValues {
  environment: string;
  cloud: string;
  region: string;
  container: string;
  key: string;
  assignmentGroup: string;
  priority: string;
  justification: string;
}

/**
 * The destination the user chose, as stored: a saved one by name (its spec is looked up in the
 * configuration when the transfer starts), or an ad-hoc one without its password.
 */
export type DestinationChoice =
  | { kind: 'saved'; name: string }
  | { kind: 'adhoc'; protocol: 'sftp' | 'ftps' | 'ftp'; host: string; port: number; username: string; remoteFolder: string };

/**
 * One request as the repository stores it. Nothing here is a credential: passwords typed on the
 * destination card and sign-in sessions live in memory only (see workflow/sessions.ts, secretVault.ts).
 */
export interface RequestRecord {
  id: string;
  state: RequestState;
  /** Bumped on every change; idempotency keys on it. */
  revision: number;
  owner: Actor;
  /** The channel's conversation reference (opaque to the workflow), for proactive messages. */
  conversation: Record<string, unknown>;
  /** The message that holds the request's working card (progress updates go there). */
  cardActivityId?: string;
  form?: RequestFormValues;
  tickets?: TicketPair;
  signInProvider?: string;
  /** When the request signed in. Set once; a request never signs in again (a new one is needed). */
  signedInAt?: string;
  /**
   * Messages the bot posted for the sign-in and the browsing: the sign-in card, and a picker it
   * posted by itself (a background sign-in). Stored, so that when the session ends (auto-logout,
   * the browse window) each one, unless it has become the working card, is updated in place to
   * say the session is closed, even after a restart. Message IDs only, never a code or token.
   */
  sessionCardIds?: string[];
  source?: { container: string; key: string; size: number; lastModified?: string; etag?: string };
  destination?: { choice: DestinationChoice; label: string; remotePath: string; overwrite: OverwritePolicy; hostKeyFingerprint?: string };
  /**
   * The running (or last) transfer. `temporaryPath` is where it writes, stored as soon as the
   * engine picks it, so a process that starts after a crash can resume or remove that file.
   */
  transfer?: { attempts: number; startedAt: string; lastBytes?: number; temporaryPath?: string };
  result?: { bytes: number; sha256: string; seconds: number; verification: VerificationLevel; finalPath: string };
  /** The transfer as data, set when it is confirmed: what a retry (or another process) runs. */
  job?: TransferJobSpec;
  failure?: { code: FailureCode; message: string; hint: string; retryable: boolean };
  /** The approval asked for a protected environment, stored so a pending approval outlives a restart. */
  approval?: ApprovalRecord;
  createdAt: string;
  updatedAt: string;
}

/** How an approval ended. 'cancelled': the requester withdrew the request while it waited. */
export type ApprovalOutcome = 'approved' | 'rejected' | 'expired' | 'cancelled';

/**
 * One approval request. Who, what, where and why are the record's own owner, source, destination,
 * form and tickets; this holds what the approval adds: who may decide, until when, where the
 * approvers' cards are (to update them in place) and the decision.
 */
export interface ApprovalRecord {
  /** 'teams': an approver of the group decides on a card; 'servicenow': the request ticket's `approval` field does. */
  via: 'teams' | 'servicenow';
  /** The assignment group whose approvers decide. */
  group: string;
  /** The approvers as people read them (UPNs, object IDs, channel names), for the requester's card. */
  approvers: string[];
  requestedAt: string;
  /** After this the request ends as expired. */
  expiresAt: string;
  /** The approval cards sent: to whom (object ID or channel ID), the conversation and the message. */
  deliveries?: ApprovalDelivery[];
  decision?: { outcome: ApprovalOutcome; by?: { userId: string; name: string }; comment?: string; at: string };
}

export interface ApprovalDelivery {
  to: string;
  conversation: Record<string, unknown>;
  activityId: string;
}

/** The file name part of a key ("reports/2024/a.csv" → "a.csv"). */
export function fileNameOf(key: string | undefined): string {
  if (!key) return '';
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
