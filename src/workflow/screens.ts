import type { SignInChallenge } from '../ports/identityProvider';
import type { RoleQuestion } from '../ports/roleChoice';
import type { ContainerInfo, ObjectInfo } from '../ports/storageSource';
import type { TicketPair } from '../ports/ticketing';
import type { TransferProgress, TransferResult } from '../transfer/types';
import type { DestinationField, DestinationFormValues } from './destinationValidation';
import type { PreflightStep } from './preflight';
import type { FieldErrors } from './requestValidation';
import { fileNameOf, type ApprovalOutcome, type RequestFormValues, type RequestRecord } from '../domain/requestRecord';
import type { TransferEnding } from './requestEnding';

/**
 * What the workflow asks the user to see next, as raw data (numbers, dates). The bot turns each
 * screen into a card (formatting sizes, rates and dates there), so the workflow knows nothing of
 * Adaptive Cards. A screen never carries a credential.
 */
export type Screen =
  | { kind: 'requestForm'; requestId: string; values: RequestFormValues; errors: FieldErrors<keyof RequestFormValues>; assignmentGroups: readonly string[]; note?: string }
  | { kind: 'tickets'; requestId: string; tickets: TicketPair }
  | { kind: 'signIn'; requestId: string; challenge: SignInChallenge; note?: string }
  /** The sign-in waits for the person to pick the account, then the role, to read with. */
  | { kind: 'rolePicker'; requestId: string; provider: string; question: RoleQuestion }
  | { kind: 'buckets'; requestId: string; cloud: string; region: string; containers: ContainerInfo[]; note?: string }
  | {
      kind: 'files';
      requestId: string;
      container: string;
      prefix: string;
      parentPrefix?: string;
      filter: string;
      folders: string[];
      objects: ObjectInfo[];
      nextToken?: string;
      hasPrevious: boolean;
      pageNumber: number;
    }
  | {
      kind: 'destinationForm';
      requestId: string;
      fileName: string;
      saved: readonly string[];
      adHocAllowed: boolean;
      plainFtpAllowed: boolean;
      values: DestinationFormValues;
      errors: FieldErrors<DestinationField>;
      hostKeyPrompt?: { host: string; fingerprint: string; keyType?: string };
      testResults?: PreflightStep[];
    }
  | { kind: 'confirm'; requestId: string; fileName: string; source: string; size: number; destination: string; remotePath: string; overwrite: string; note?: string }
  | { kind: 'progress'; requestId: string; fileName: string; progress: TransferProgress }
  /** Cancel was asked and the transfer is stopping; its own end posts the cancelled card. */
  | { kind: 'cancelling'; requestId: string; fileName: string }
  | { kind: 'completed'; record: RequestRecord; result: TransferResult }
  | { kind: 'failed'; requestId: string; fileName: string; code: string; reason: string; hint: string; canRetry: boolean }
  | { kind: 'requestList'; title: string; requests: RequestRecord[] }
  /** The requester's card while a protected request waits for an approver (Cancel withdraws it). */
  | { kind: 'awaitingApproval'; requestId: string; fileName: string; approvers: string[]; via: 'teams' | 'servicenow'; expiresAt: string; tickets?: TicketPair }
  /** The card an approver gets: who, what, where, why, both tickets, Approve / Reject with a comment. */
  | { kind: 'approvalRequest'; record: RequestRecord; note?: string }
  /** An approver's card once the approval is over; `byYou` when the person looking decided it. */
  | { kind: 'approvalClosed'; requestId: string; fileName: string; outcome: ApprovalOutcome; byName?: string; byYou: boolean; comment?: string };

/** What a card action produced: the card that replaces the one acted on, and new messages to post. */
export interface ActionOutcome {
  screen: Screen;
  followUps?: Screen[];
  /** A repeat answered from the idempotency memo: show `screen` again, post no follow-up again. */
  replayed?: boolean;
}

/** The card-ready screen of a transfer's end. */
export function endingScreen(record: RequestRecord, ending: TransferEnding): Screen {
  if (ending.kind === 'completed') return { kind: 'completed', record: { ...record }, result: ending.result };
  return { kind: 'failed', requestId: record.id, fileName: fileNameOf(record.source?.key), code: ending.code, reason: ending.reason, hint: ending.hint, canRetry: ending.canRetry };
}
