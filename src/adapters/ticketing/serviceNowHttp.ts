import { TicketingError, isNetworkErrno } from '../../domain/errors';

/** The fetch FileFerry calls ServiceNow with: Node's global fetch, or one a test injects. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** An HTTP answer, read to the end. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_NOT_YET_VALID',
]);

/**
 * One HTTP exchange with a deadline: `timeoutMs` covers the whole answer, body included. The
 * caller's `signal` cancels it. Transport failures become TicketingError: TIMEOUT and NETWORK
 * (retryable; the server may or may not have acted on the request), TLS_CERT_INVALID, CANCELLED.
 * `what` says which call it was ("creating the audit ticket in incident"); messages name the
 * instance's origin only, never a header.
 */
export async function timedFetch(
  fetchFn: FetchLike,
  url: URL,
  init: RequestInit,
  options: { timeoutMs: number; signal?: AbortSignal; what: string },
): Promise<HttpAnswer> {
  const { timeoutMs, signal, what } = options;
  if (signal?.aborted) throw cancelledCall(what);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetchFn(url.href, { ...init, signal: controller.signal });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  } catch (e) {
    if (signal?.aborted) throw cancelledCall(what);
    if (timedOut) {
      throw new TicketingError('TIMEOUT', `ServiceNow at ${url.origin} did not answer within ${timeoutMs} ms while ${what}.`, {
        hint: 'This is worth retrying; if it keeps happening, check the instance is up and reachable from FileFerry.',
      });
    }
    const code = transportCode(e);
    if (code && TLS_CODES.has(code)) {
      throw new TicketingError('TLS_CERT_INVALID', `The certificate of ServiceNow at ${url.origin} is not trusted (${code}) while ${what}.`, {
        hint: 'Check SERVICENOW_INSTANCE_URL; a TLS-inspecting proxy needs its CA in NODE_EXTRA_CA_CERTS.',
      });
    }
    throw new TicketingError('NETWORK', `Could not reach ServiceNow at ${url.origin} while ${what} (${code ?? 'connection failed'}).`, {
      hint: 'This is worth retrying; check the instance URL, DNS and any proxy between FileFerry and ServiceNow.',
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function cancelledCall(what: string): TicketingError {
  return new TicketingError('CANCELLED', `The call to ServiceNow was cancelled while ${what}.`, { hint: 'Start the action again when you are ready.' });
}

/** The errno-like code of a fetch failure (undici puts it on `cause`, sometimes one level deeper). */
function transportCode(e: unknown): string | undefined {
  for (let err = e as { code?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 4; err = err.cause as typeof err, depth++) {
    if (typeof err.code === 'string' && (isNetworkErrno(err) || TLS_CODES.has(err.code) || err.code.startsWith('UND_ERR'))) return err.code;
  }
  return undefined;
}
