import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { DeviceCodeRefusal } from './entraErrors';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * MSAL's HTTP contract over Node's fetch, as msal-node's own HttpClient does it (which it does
 * not export): every status resolves with the parsed JSON body (MSAL reads OAuth errors from
 * 400 bodies), and socket failures reject (MSAL turns them into network_error). Unlike MSAL's,
 * POSTs time out too, so a hung token request cannot stall a sign-in for good.
 */
export function fetchNetworkClient(timeoutMs = DEFAULT_TIMEOUT_MS): INetworkModule {
  async function send<T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const response = await fetch(url, {
      method,
      headers: options?.headers,
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      signal: AbortSignal.timeout(timeout ?? timeoutMs),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { headers, body: (await response.json()) as T, status: response.status };
  }
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, 'GET', options, timeout),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

/** What one sign-in's network traffic tells the provider. `n` counts token polls from 1. */
export interface PollObserver {
  pollStarted(n: number): void;
  /** The poll was answered authorization_pending: MSAL waits `interval`, then polls again. */
  pollPending(n: number): void;
  /** The device code endpoint answered an error (MSAL reads no error there, only missing fields). */
  deviceCodeRefused(refusal: DeviceCodeRefusal): void;
}

interface OAuthErrorBody {
  error?: unknown;
  error_codes?: unknown;
}

/**
 * Wraps one sign-in's network client to watch the device-code grant go by: which POST is a
 * token poll (`grant_type=device_code`), which answer is authorization_pending, and what the
 * device code endpoint said when it refused. Nothing is read or kept but those names.
 */
export function observedNetworkClient(inner: INetworkModule, observer: PollObserver): INetworkModule {
  let polls = 0;
  return {
    sendGetRequestAsync: (url, options, timeout) => inner.sendGetRequestAsync(url, options, timeout),
    async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      const form = new URLSearchParams(options?.body ?? '');
      const isPoll = form.get('grant_type') === 'device_code';
      const isDeviceCode = !isPoll && /\/devicecode(?:$|\?)/.test(url);
      const n = isPoll ? ++polls : 0;
      if (isPoll) observer.pollStarted(n);
      const response = await inner.sendPostRequestAsync<T>(url, options);
      const body = (response.body ?? {}) as OAuthErrorBody;
      if (isPoll && body.error === 'authorization_pending') observer.pollPending(n);
      if (isDeviceCode && (response.status >= 400 || body.error !== undefined)) {
        const first = Array.isArray(body.error_codes) ? body.error_codes[0] : undefined;
        observer.deviceCodeRefused({
          status: response.status,
          error: typeof body.error === 'string' ? body.error : undefined,
          errorNo: typeof first === 'number' ? first : undefined,
        });
      }
      return response;
    },
  };
}
