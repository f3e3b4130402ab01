import type { NewTicketPair } from '../ports/ticketing';
import type { Actor, RequestFormValues, RequestRecord } from '../domain/requestRecord';
import type { TransferResult } from '../transfer/types';

/**
 * Every sentence FileFerry writes on a ticket, in one place: what the pair says when it opens, and
 * the note each way a request can end leaves on both tickets. Plain text, never a secret.
 */
export function newTicketPair(record: RequestRecord, actor: Actor, form: RequestFormValues): NewTicketPair {
  const what = [form.container, form.key].filter(Boolean).join('/') || '(to be picked)';
  return {
    requestId: record.id,
    requester: { id: actor.userId, name: actor.name },
    summary: `File transfer ${record.id}: ${form.environment} ${form.cloud} ${form.region} ${what}`,
    description: [
      `Requester: ${actor.name}`,
      `Environment: ${form.environment}`,
      `Cloud / region: ${form.cloud} ${form.region}`,
      `Bucket or container: ${form.container || '(picked after sign-in)'}`,
      `File or prefix: ${form.key || '(picked after sign-in)'}`,
      `Justification: ${form.justification}`,
    ].join('\n'),
    assignmentGroup: form.assignmentGroup,
    priority: form.priority,
    environment: form.environment,
  };
}

export const notes = {
  signedIn: (who: string, provider: string, principal: string): string => `${who} signed in with ${provider} as ${principal}.`,
  started: (name: string, source: { scheme: string; container: string; object: { key: string; size: number } }, label: string, remotePath: string, attempt: number): string =>
    `${attempt > 1 ? `Retry (attempt ${attempt}): t` : 'T'}ransfer started: ${source.scheme}://${source.container}/${source.object.key} (${source.object.size} bytes) to ${label} ${remotePath}.`,
  resumed: (name: string, fromByte: number, attempt: number): string => `The transfer of ${name} resumed at byte ${fromByte} (connection attempt ${attempt}).`,
  completed: (name: string, label: string | undefined, result: TransferResult): string =>
    `Transferred ${name} (${result.bytes} bytes in ${result.seconds.toFixed(1)} s, SHA-256 ${result.sha256}) to ${label} ${result.finalPath}; verified: ${result.verification}.`,
  failed: (name: string, code: string, message: string, hint = ''): string => `The transfer of ${name} failed (${code}): ${message}${hint ? ` What to do: ${hint}` : ''}`,
  transferCancelled: (name: string): string => `The transfer of ${name} was cancelled by the requester.`,
  requestCancelled: (id: string): string => `Request ${id} was cancelled by the requester before any transfer.`,
  expired: (id: string): string => `Request ${id} expired without a completed transfer.`,
  interrupted: (name: string, foundBy: 'cancel' | 'expiry' | 'restart'): string =>
    `The transfer of ${name} was interrupted and is no longer running (found on ${foundBy}).`,
  unrecorded: (name: string, message: string): string => `The transfer of ${name} ended, but its result could not be recorded: ${message}`,
};
