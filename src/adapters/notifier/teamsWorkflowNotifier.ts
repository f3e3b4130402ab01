import { NotifyError, isFerryError, isNetworkErrno } from '../../domain/errors';
import type { AuditChannelMessage, Notifier, NotifyResult } from '../../ports/notifier';
import { deliver, type AttemptFailure } from './noticeDelivery';
import { outcomeCard, workflowBody } from './outcomeCard';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TeamsWorkflowNotifierOptions {
  /**
   * The webhook URL, read through the SecretStore on every notification (the URL is a
   * credential: its `sig` parameter is the only thing that authorises a post), so a rotated URL
   * applies to the next card.
   */
  url: (signal: AbortSignal) => Promise<string>;
  fetch?: FetchLike;
  /** Deadline of each POST. Default 10 s. */
  timeoutMs?: number;
  /** Tries in all. Default 4. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const WHAT = 'the Teams Workflows webhook (FILEFERRY_AUDIT_WEBHOOK_URL)';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * FILEFERRY_NOTIFIER=teams-workflow: posts the outcome card to a Power Automate Workflows webhook
 * ("When a Teams webhook request is received"), the replacement for the retired Office 365
 * connectors. Any 2xx is delivered (the service answers 202 with an empty body); 429, 408, 5xx,
 * timeouts and dropped connections are retried with backoff honouring Retry-After; any other 4xx
 * is not. No message, hint or result ever holds the URL, which is a credential.
 */
export class TeamsWorkflowNotifier implements Notifier {
  private readonly fetch: FetchLike;

  constructor(private readonly options: TeamsWorkflowNotifierOptions) {
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  notify(message: AuditChannelMessage): Promise<NotifyResult> {
    const body = JSON.stringify(workflowBody(outcomeCard(message)));
    return deliver((signal) => this.post(body, signal), {
      what: WHAT,
      attempts: this.options.attempts ?? 4,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      baseDelayMs: this.options.baseDelayMs ?? 1_000,
      maxDelayMs: this.options.maxDelayMs ?? 30_000,
      ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
    });
  }

  private async post(body: string, signal: AbortSignal): Promise<AttemptFailure | undefined> {
    let target: URL;
    try {
      target = webhookUrl(await this.options.url(signal));
    } catch (e) {
      return { error: isFerryError(e) && e.area === 'notify' ? (e as NotifyError) : unreadable(e) };
    }
    let response: Response;
    try {
      response = await this.fetch(target.href, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
    } catch (e) {
      if (signal.aborted) return { error: new NotifyError('TIMEOUT', `${cap(WHAT)} did not answer in time.`) };
      return { error: new NotifyError('NETWORK', `Could not reach ${WHAT} (${transportCode(e) ?? 'connection failed'}).`, { hint: 'It is tried again a few times; check DNS, the proxy and the firewall between FileFerry and Power Automate.' }) };
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return undefined;
    return refusal(response.status, text, response.headers.get('retry-after'));
  }
}

/**
 * The URL the secret holds: https, or http on loopback only (a local relay, the tests). Its
 * value is never repeated in the message.
 */
export function webhookUrl(value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) {
    throw new NotifyError('INVALID_CONFIG', 'The secret FILEFERRY_AUDIT_WEBHOOK_URL refers to does not hold an https URL.', {
      hint: 'Store the whole "HTTP POST URL" of the workflow\'s "When a Teams webhook request is received" trigger in that secret.',
    });
  }
  return url;
}

function refusal(status: number, text: string, retryAfter: string | null): AttemptFailure {
  const detail = serviceCode(text);
  const said = `${cap(WHAT)} answered HTTP ${status}${detail ? ` (${detail})` : ''}.`;
  if (status === 429) {
    return { error: new NotifyError('THROTTLED', said, { hint: 'Power Automate is throttling this flow; FileFerry waits as asked and tries again.' }), ...retryAfterMs(retryAfter) };
  }
  if (status >= 500 || status === 408) {
    return { error: new NotifyError(status === 408 ? 'TIMEOUT' : 'SERVER_ERROR', said, { hint: 'It is tried again a few times; check the flow\'s run history in Power Automate.' }), ...retryAfterMs(retryAfter) };
  }
  const [code, hint]: [NotifyError['code'], string] =
    status === 401 || status === 403
      ? [status === 401 ? 'AUTH_FAILED' : 'ACCESS_DENIED', 'The URL\'s signature was refused: copy the trigger\'s HTTP POST URL again, whole, into the secret FILEFERRY_AUDIT_WEBHOOK_URL refers to.']
      : status === 404 || status === 410
        ? ['NOT_FOUND', 'The workflow was deleted or turned off (or its owner left): create it again and store its new URL in the secret FILEFERRY_AUDIT_WEBHOOK_URL refers to.']
        : ['INVALID_CONFIG', 'The flow refused the card: check that its trigger is "When a Teams webhook request is received" and it posts attachments[0].content as an Adaptive Card.'];
  return { error: new NotifyError(code, said, { hint, retryable: false }) };
}

/** Power Automate's error code (`{"error":{"code":"WorkflowTriggerIsNotEnabled",…}}`), if it is a plain identifier. */
function serviceCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,80}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function retryAfterMs(raw: string | null): { retryAfterMs?: number } {
  if (!raw) return {};
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return { retryAfterMs: seconds * 1000 };
  const at = Date.parse(raw);
  return Number.isNaN(at) ? {} : { retryAfterMs: Math.max(0, at - Date.now()) };
}

function unreadable(e: unknown): NotifyError {
  const code = isFerryError(e) ? e.code : 'INTERNAL';
  // The secret store's message names the reference, never the value.
  const why = isFerryError(e) ? e.message : 'the secret store failed';
  return new NotifyError(code, `The webhook URL (FILEFERRY_AUDIT_WEBHOOK_URL) could not be read: ${why}`, {
    hint: isFerryError(e) && e.hint ? e.hint : 'Check the secret reference in FILEFERRY_AUDIT_WEBHOOK_URL.',
    retryable: isFerryError(e) ? e.retryable : false,
  });
}

function transportCode(e: unknown): string | undefined {
  for (let err = e as { code?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 4; err = err.cause as typeof err, depth++) {
    if (typeof err.code === 'string' && (isNetworkErrno(err) || /^(UND_ERR|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(err.code))) return err.code;
  }
  return undefined;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
