import type { DestinationFormValues } from '../workflow/destinationValidation';
import type { RequestFormValues } from '../domain/requestRecord';

/**
 * The typed data model of every Adaptive Card template in cards/. The template `cards/<name>.json`
 * is expanded with exactly `CardData[name]`. Card actions are `Action.Execute` with a `verb` from
 * `Verb` and `data` that always carries `requestId` (except on the welcome/help cards); handlers
 * route on the verb, never on card text. Values shown to people are pre-formatted strings here so
 * templates stay dumb.
 */

export type Verb =
  | 'request.new' // open a fresh request form
  | 'request.submit' // request form submitted
  | 'signin.continue' // local sign-in / "I have signed in" after device code
  | 'signin.pick' // data.step ('account' | 'role'), data.value: the account or role picked
  | 'bucket.pick' // data.container
  | 'files.open' // data.prefix: go into a folder or back up
  | 'files.page' // data.token / data.direction
  | 'files.filter' // input filter
  | 'file.pick' // data.objectKey
  | 'dest.submit' // destination form submitted
  | 'dest.test' // Test connection
  | 'dest.trustHostKey' // user confirmed an unknown SFTP host key (data.fingerprint)
  | 'transfer.confirm'
  | 'transfer.cancel'
  | 'transfer.retry'
  | 'request.status'
  | 'approval.approve' // an approver approves (input comment)
  | 'approval.reject'; // an approver rejects (input comment, required)

export interface Choice {
  title: string;
  value: string;
}

export interface LinkedTicket {
  number: string;
  url: string;
}

export interface WelcomeCard {
  userName: string;
}

export interface HelpCard {
  commands: { command: string; description: string }[];
}

export interface RequestFormCard {
  /** The draft request this form belongs to, when the workflow has one; carried in the submit data. */
  requestId?: string;
  values: RequestFormValues;
  /** Per-field messages; a field without an entry is valid. */
  errors: Partial<Record<keyof RequestFormCard['values'], string>>;
  /** A problem with the request as a whole (the ticketing system could not be reached); absent normally. */
  note?: string;
  choices: { environments: Choice[]; clouds: Choice[]; regions: Choice[]; assignmentGroups: Choice[]; priorities: Choice[] };
}

export interface TicketsCard {
  requestId: string;
  userTicket: LinkedTicket;
  auditTicket: LinkedTicket;
}

export interface SignInCard {
  requestId: string;
  provider: string;
  /** Local sign-in: "Continue as <userName>". */
  userName: string;
  /** Device authorization (real SSO): the link and code to show. */
  verificationUrl?: string;
  userCode?: string;
  /** When the code stops working, as people read a time. */
  expires?: string;
  /**
   * Set once the session has ended by itself: how, as people read it ("once your transfer had
   * started"). The card then says the session is closed and has no button at all.
   */
  closed?: string;
}

/** The account, then the role, a sign-in reads with, when the person has several. */
export interface RolePickerCard {
  requestId: string;
  provider: string;
  step: 'account' | 'role';
  /** "Choose an AWS account" / "Choose a role in account 1111…". */
  title: string;
  options: { value: string; title: string; detail: string }[];
  /** When the sign-in stops waiting, as people read a time. */
  expires: string;
}

export interface BucketPickerCard {
  requestId: string;
  cloud: string;
  region: string;
  containers: { name: string; created: string }[];
}

export interface FilePickerCard {
  requestId: string;
  container: string;
  prefix: string;
  /** The prefix one level up, or undefined at the top. */
  parentPrefix?: string;
  filter: string;
  folders: { name: string; prefix: string }[];
  objects: { name: string; key: string; size: string; lastModified: string }[];
  nextToken?: string;
  hasPrevious: boolean;
  pageNumber: number;
}

export interface DestinationFormCard {
  requestId: string;
  fileName: string;
  saved: Choice[];
  adHocAllowed: boolean;
  plainFtpAllowed: boolean;
  values: DestinationFormValues;
  errors: Partial<Record<keyof DestinationFormCard['values'] | 'password' | 'plainFtpConsent', string>>;
  /** An unknown SFTP host key waiting for the user's confirmation, with its type ("ssh-ed25519") when the key names one. */
  hostKeyPrompt?: { host: string; fingerprint: string; keyType?: string };
  /** Results of the last Test connection, in order. */
  testResults?: { step: string; ok: boolean; detail: string }[];
}

export interface ConfirmCard {
  requestId: string;
  fileName: string;
  source: string;
  size: string;
  destination: string;
  remotePath: string;
  overwrite: string;
  /** Why the transfer did not start yet (the audit log is unavailable); absent normally. */
  note?: string;
}

export interface ProgressCard {
  requestId: string;
  fileName: string;
  percent: number;
  /** e.g. "412 MiB of 1.0 GiB" */
  bytes: string;
  rate: string;
  eta: string;
  attempt: number;
}

/** Shown the moment Cancel is clicked; the transfer's own end then posts the cancelled card. */
export interface CancellingCard {
  requestId: string;
  fileName: string;
}

export interface CompletedCard {
  requestId: string;
  fileName: string;
  userTicket: LinkedTicket;
  auditTicket: LinkedTicket;
  size: string;
  duration: string;
  rate: string;
  sha256: string;
  verification: string;
  destination: string;
}

export interface FailedCard {
  requestId: string;
  fileName: string;
  reason: string;
  hint: string;
  code: string;
  canRetry: boolean;
}

export interface InactiveCard {
  message: string;
}

export interface ErrorCard {
  correlationId: string;
  message: string;
}

export interface RequestListCard {
  title: string;
  requests: { requestId: string; fileName: string; state: string; updated: string; tickets: string }[];
}

/** The requester's card while a protected request waits for an approver. */
export interface AwaitingApprovalCard {
  requestId: string;
  fileName: string;
  /** "alice@contoso.com, bob@contoso.com" or "the approvers of REQ… in ServiceNow". */
  approvers: string;
  /** "Teams" or "ServiceNow". */
  decidedIn: string;
  expires: string;
  userTicket?: LinkedTicket;
  auditTicket?: LinkedTicket;
}

/** The card an approver gets: who, what, where, why, both tickets, Approve / Reject with a comment. */
export interface ApprovalRequestCard {
  requestId: string;
  requester: string;
  environment: string;
  group: string;
  fileName: string;
  size: string;
  source: string;
  destination: string;
  justification: string;
  expires: string;
  userTicket: LinkedTicket;
  auditTicket: LinkedTicket;
  /** Why the click did not go through (a rejection without a comment); absent normally. */
  note?: string;
}

/** An approver's card once the approval is over. */
export interface ApprovalClosedCard {
  requestId: string;
  fileName: string;
  /** "Approved by you", "Rejected by Bob Approver", "Expired" … */
  headline: string;
  detail: string;
  color: 'Good' | 'Attention' | 'Warning' | 'Default';
  comment?: string;
}

export interface CardData {
  welcome: WelcomeCard;
  help: HelpCard;
  requestForm: RequestFormCard;
  tickets: TicketsCard;
  signIn: SignInCard;
  rolePicker: RolePickerCard;
  bucketPicker: BucketPickerCard;
  filePicker: FilePickerCard;
  destinationForm: DestinationFormCard;
  confirm: ConfirmCard;
  progress: ProgressCard;
  cancelling: CancellingCard;
  completed: CompletedCard;
  failed: FailedCard;
  inactive: InactiveCard;
  error: ErrorCard;
  requestList: RequestListCard;
  awaitingApproval: AwaitingApprovalCard;
  approvalRequest: ApprovalRequestCard;
  approvalClosed: ApprovalClosedCard;
}

export type CardName = keyof CardData;
