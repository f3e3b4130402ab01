import type { Attachment } from 'botbuilder';
import { fileNameOf, type RequestRecord } from '../domain/requestRecord';
import type { CardData } from '../ui/cardModels';
import { humanBytes, humanDate } from '../ui/format';
import { renderCard } from '../ui/renderCard';
import type { Screen } from '../workflow/screens';

type ApprovalScreen = Extract<Screen, { kind: 'awaitingApproval' | 'approvalRequest' | 'approvalClosed' }>;

/** The approval screens as cards (screenCards.cardFor hands these three kinds here). */
export function approvalCard(screen: ApprovalScreen): { name: 'awaitingApproval' | 'approvalRequest' | 'approvalClosed'; attachment: Attachment } {
  switch (screen.kind) {
    case 'awaitingApproval':
      return {
        name: 'awaitingApproval',
        attachment: renderCard('awaitingApproval', {
          requestId: screen.requestId,
          fileName: screen.fileName,
          approvers: screen.approvers.join(', '),
          decidedIn: screen.via === 'servicenow' ? 'ServiceNow' : 'Teams',
          expires: humanDate(screen.expiresAt),
          ...(screen.tickets ? { userTicket: screen.tickets.user, auditTicket: screen.tickets.audit } : {}),
        }),
      };
    case 'approvalRequest':
      return { name: 'approvalRequest', attachment: renderCard('approvalRequest', requestData(screen.record, screen.note)) };
    case 'approvalClosed':
      return { name: 'approvalClosed', attachment: renderCard('approvalClosed', closedData(screen)) };
  }
}

function requestData(record: RequestRecord, note?: string): CardData['approvalRequest'] {
  const none = { number: '(none)', url: 'https://teams.microsoft.com' };
  return {
    requestId: record.id,
    requester: record.owner.upn ? `${record.owner.name} (${record.owner.upn})` : record.owner.name,
    environment: record.form?.environment ?? '',
    group: record.approval?.group ?? record.form?.assignmentGroup ?? '',
    fileName: fileNameOf(record.source?.key),
    size: humanBytes(record.source?.size ?? 0),
    source: `${record.form?.cloud ?? ''} ${record.source?.container ?? ''}/${record.source?.key ?? ''}`.trim(),
    destination: `${record.destination?.label ?? ''} ${record.destination?.remotePath ?? ''}`.trim(),
    justification: record.form?.justification ?? '',
    expires: record.approval ? humanDate(record.approval.expiresAt) : '',
    userTicket: record.tickets?.user ?? none,
    auditTicket: record.tickets?.audit ?? none,
    ...(note ? { note } : {}),
  };
}

function closedData(screen: Extract<Screen, { kind: 'approvalClosed' }>): CardData['approvalClosed'] {
  const who = screen.byYou ? 'you' : screen.byName ?? 'an approver';
  const base = { requestId: screen.requestId, fileName: screen.fileName, ...(screen.comment ? { comment: screen.comment } : {}) };
  switch (screen.outcome) {
    case 'approved':
      return { ...base, headline: `Approved by ${who}`, detail: 'The transfer has started; the requester sees its progress.', color: 'Good' };
    case 'rejected':
      return { ...base, headline: `Rejected by ${who}`, detail: 'Nothing was transferred; the requester and both tickets have the reason.', color: 'Attention' };
    case 'expired':
      return { ...base, headline: 'Expired', detail: 'No approver decided in time, so the request expired and nothing was transferred.', color: 'Warning' };
    case 'cancelled':
      return { ...base, headline: 'Withdrawn', detail: 'The requester cancelled the request while it waited; nothing was transferred.', color: 'Default' };
  }
}
