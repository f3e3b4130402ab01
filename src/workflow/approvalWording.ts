import { fileNameOf, type ApprovalRecord, type RequestRecord } from '../domain/requestRecord';

type Decision = NonNullable<ApprovalRecord['decision']>;

/** What an approval writes on both tickets, in one place. Plain text, never a secret. */
export const approvalNotes = {
  requested: (record: RequestRecord, approvers: readonly string[]): string =>
    `Approval requested (${record.form?.environment ?? ''} is a protected environment) from ${record.approval?.via === 'servicenow' ? 'ServiceNow' : `the approvers of ${record.approval?.group}`}: ` +
    `${approvers.join(', ')}. ${what(record)} Nothing is sent before an approval; the request expires at ${record.approval?.expiresAt}.`,
  approved: (record: RequestRecord, d: Decision): string => `Approved by ${d.by?.name ?? 'an approver'}${d.comment ? `: "${d.comment}"` : ''}. ${what(record)}`,
  rejected: (record: RequestRecord, d: Decision): string => `Rejected by ${d.by?.name ?? 'an approver'}${d.comment ? `: "${d.comment}"` : ''}. Nothing was transferred. ${what(record)}`,
  expired: (record: RequestRecord, hours: number): string => `No approver decided within ${approvalWindow(hours)}: request ${record.id} expired and nothing was transferred.`,
};

/** The approval window as people read it ("24 h"; a window under an hour in seconds). */
export function approvalWindow(hours: number): string {
  return hours >= 1 ? `${hours} h` : `${Math.round(hours * 3600)} s`;
}

function what(record: RequestRecord): string {
  const s = record.source;
  return s ? `File ${s.container}/${s.key} (${s.size} bytes) to ${record.destination?.label ?? 'the destination'} ${record.destination?.remotePath ?? ''}`.trimEnd() + '.' : '';
}
