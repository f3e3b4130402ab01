import type { Attachment } from 'botbuilder';
import { approvalCard } from './approvalCards';
import type { CardData, CardName, Choice } from '../ui/cardModels';
import { humanBytes, humanDate, humanDuration, humanRate } from '../ui/format';
import { renderCard } from '../ui/renderCard';
import { AD_HOC } from '../workflow/destinationValidation';
import { CLOUDS, ENVIRONMENTS, PRIORITIES, REGIONS } from '../workflow/regions';
import { fileNameOf, type RequestRecord } from '../domain/requestRecord';
import type { Screen } from '../workflow/screens';
import type { SessionTimeout } from '../workflow/sessions';

/** The overwrite policy as the destination form words it. */
const OVERWRITE_LABELS: Record<string, string> = {
  fail: 'Stop and tell me',
  replace: 'Replace it',
  rename: 'Keep both (rename the new one)',
};

/** A card ready to send: its template name (for logs and tests) and the attachment. */
export interface RenderedCard {
  name: CardName;
  attachment: Attachment;
}

function card<K extends CardName>(name: K, data: CardData[K]): RenderedCard {
  return { name, attachment: renderCard(name, data) };
}

const VERIFICATION: Record<string, string> = {
  size: 'size checked',
  'size+source-checksum': "size and the source's checksum",
  'size+server-hash': "size and the server's own SHA-256",
  'size+source-checksum+server-hash': "size, the source's checksum and the server's SHA-256",
};

/** The state as people read it; a failed request says how (interrupted by a restart, rejected sign-in …). */
function stateName(r: RequestRecord): string {
  if (r.state === 'cancelled' && r.approval?.decision?.outcome === 'rejected') return 'Rejected';
  if (r.state !== 'failed' || !r.failure) return STATE_NAMES[r.state];
  if (r.failure.code === 'INTERRUPTED') return r.failure.retryable ? 'Interrupted (can resume)' : 'Interrupted';
  return `Failed (${r.failure.code})`;
}

const STATE_NAMES: Record<RequestRecord['state'], string> = {
  draft: 'Draft',
  ticketed: 'Waiting for sign-in',
  'signed-in': 'Choosing a file',
  'source-chosen': 'Choosing a destination',
  'destination-set': 'Waiting for confirmation',
  'awaiting-approval': 'Waiting for approval',
  transferring: 'Transferring',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

/**
 * Turns a workflow screen into its Adaptive Card: formats sizes, rates, durations and dates for
 * people, and builds the choice lists. The only place that knows both vocabularies.
 */
export function cardFor(screen: Screen): RenderedCard {
  switch (screen.kind) {
    case 'requestForm':
      return card('requestForm', {
        requestId: screen.requestId,
        values: screen.values,
        errors: screen.errors,
        ...(screen.note ? { note: screen.note } : {}),
        choices: {
          environments: ENVIRONMENTS.map((e) => ({ title: e, value: e })),
          clouds: CLOUDS.map((c) => ({ title: c, value: c })),
          regions: CLOUDS.flatMap((c) => REGIONS[c].map((r) => ({ title: `${c} · ${r}`, value: r }))),
          assignmentGroups: screen.assignmentGroups.map((g) => ({ title: g, value: g })),
          priorities: PRIORITIES.map((p) => ({ title: p.title, value: p.value })),
        },
      });
    case 'tickets':
      return card('tickets', { requestId: screen.requestId, userTicket: screen.tickets.user, auditTicket: screen.tickets.audit });
    case 'signIn': {
      const c = screen.challenge;
      return card('signIn', {
        requestId: screen.requestId,
        provider: c.provider,
        userName: c.kind === 'continue-as' ? c.userName : '',
        ...(c.kind === 'device-code' ? { verificationUrl: c.verificationUrl, userCode: c.userCode, expires: humanDate(c.expiresAt) } : {}),
      });
    }
    case 'rolePicker': {
      const q = screen.question;
      return card('rolePicker', {
        requestId: screen.requestId,
        provider: screen.provider,
        step: q.step,
        title: q.step === 'account' ? 'Choose an AWS account' : `Choose a role in AWS account ${q.accountId ?? ''}`.trim(),
        options: q.options.map((o) => ({ value: o.value, title: o.title, detail: o.detail ?? '' })),
        expires: humanDate(q.expiresAt),
      });
    }
    case 'buckets':
      return card('bucketPicker', {
        requestId: screen.requestId,
        cloud: screen.cloud,
        region: screen.region,
        containers: screen.containers.map((c) => ({ name: c.name, created: c.createdAt ? humanDate(c.createdAt) : '' })),
      });
    case 'files':
      return card('filePicker', {
        requestId: screen.requestId,
        container: screen.container,
        prefix: screen.prefix,
        ...(screen.parentPrefix !== undefined ? { parentPrefix: screen.parentPrefix } : {}),
        filter: screen.filter,
        folders: screen.folders.map((p) => ({ name: p.slice(screen.prefix.length).replace(/\/$/, ''), prefix: p })),
        objects: screen.objects.map((o) => ({
          name: o.key.slice(screen.prefix.length),
          key: o.key,
          size: humanBytes(o.size),
          lastModified: o.lastModified ? humanDate(o.lastModified) : '',
        })),
        ...(screen.nextToken ? { nextToken: screen.nextToken } : {}),
        hasPrevious: screen.hasPrevious,
        pageNumber: screen.pageNumber,
      });
    case 'destinationForm': {
      const saved: Choice[] = screen.saved.map((name) => ({ title: name, value: name }));
      if (screen.adHocAllowed) saved.push({ title: 'Another server (enter it below)', value: AD_HOC });
      return card('destinationForm', {
        requestId: screen.requestId,
        fileName: screen.fileName,
        saved,
        adHocAllowed: screen.adHocAllowed,
        plainFtpAllowed: screen.plainFtpAllowed,
        values: screen.values,
        errors: screen.errors,
        ...(screen.hostKeyPrompt ? { hostKeyPrompt: screen.hostKeyPrompt } : {}),
        ...(screen.testResults ? { testResults: screen.testResults } : {}),
      });
    }
    case 'confirm': {
      const { kind: _kind, size, ...rest } = screen;
      return card('confirm', { ...rest, size: humanBytes(size), overwrite: OVERWRITE_LABELS[rest.overwrite] ?? rest.overwrite });
    }
    case 'progress': {
      const p = screen.progress;
      return card('progress', {
        requestId: screen.requestId,
        fileName: screen.fileName,
        percent: Math.floor(p.percent),
        bytes: `${humanBytes(p.bytes)} of ${humanBytes(p.total)}`,
        rate: humanRate(p.rate),
        eta: p.etaSeconds === undefined ? 'estimating…' : humanDuration(p.etaSeconds),
        attempt: p.attempt,
      });
    }
    case 'cancelling':
      return card('cancelling', { requestId: screen.requestId, fileName: screen.fileName });
    case 'completed':
      return card('completed', completedData(screen.record));
    case 'failed':
      return card('failed', { requestId: screen.requestId, fileName: screen.fileName, reason: screen.reason, hint: screen.hint, code: screen.code, canRetry: screen.canRetry });
    case 'awaitingApproval':
    case 'approvalRequest':
    case 'approvalClosed':
      return approvalCard(screen);
    case 'requestList':
      return card('requestList', {
        title: screen.title,
        requests: screen.requests.map((r) => ({
          requestId: r.id,
          fileName: fileNameOf(r.source?.key) || r.form?.key || '(not chosen yet)',
          state: stateName(r),
          updated: humanDate(r.updatedAt),
          tickets: r.tickets ? `${r.tickets.user.number} / ${r.tickets.audit.number}` : '',
        })),
      });
  }
}

/** The completed card's data, from the stored record (also used by the proactive message). */
export function completedData(record: RequestRecord): CardData['completed'] {
  const r = record.result!;
  return {
    requestId: record.id,
    fileName: fileNameOf(record.source?.key),
    userTicket: record.tickets!.user,
    auditTicket: record.tickets!.audit,
    size: humanBytes(r.bytes),
    duration: humanDuration(r.seconds),
    rate: humanRate(r.seconds > 0 ? r.bytes / r.seconds : r.bytes),
    sha256: r.sha256,
    verification: VERIFICATION[r.verification] ?? r.verification,
    destination: `${record.destination?.label ?? ''} ${r.finalPath}`.trim(),
  };
}

/** How each way a session ends by itself reads on the closed sign-in card. */
const CLOSED_BY: Record<SessionTimeout, string> = {
  'auto-logout': 'once your transfer had started (the transfer itself goes on)',
  'browse-window': 'because nothing was browsed for a while',
};

/** The sign-in card once its session has ended by itself: says so, shows no code and has no button. */
export function sessionClosedCard(requestId: string, provider: string | undefined, cause: SessionTimeout): RenderedCard {
  return card('signIn', { requestId, provider: provider ?? '', userName: '', closed: CLOSED_BY[cause] });
}

export function inactiveCard(message: string): RenderedCard {
  return card('inactive', { message });
}

export function errorCard(correlationId: string, message: string): RenderedCard {
  return card('error', { correlationId, message });
}

export function welcomeCard(userName: string): RenderedCard {
  return card('welcome', { userName });
}

export const COMMANDS: { command: string; description: string }[] = [
  { command: 'transfer', description: 'Start a new file transfer request (also: new).' },
  { command: 'status [id]', description: 'Show a request, or your open requests.' },
  { command: 'history', description: 'Show your last 10 requests.' },
  { command: 'cancel [id]', description: 'Cancel a request or a running transfer.' },
  { command: 'help', description: 'Show this list.' },
];

export function helpCard(): RenderedCard {
  return card('help', { commands: COMMANDS });
}
