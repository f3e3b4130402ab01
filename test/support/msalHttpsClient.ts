import { request } from 'node:https';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/** Every request MSAL sent through the client, by method and URL path (no bodies: they hold codes). */
export interface SentRequest {
  method: 'GET' | 'POST';
  url: string;
}

/**
 * MSAL's network module (`system.networkClient`) over node:https, trusting the given CA: how the
 * tests let the real MSAL reach the fake Entra ID over TLS with certificate verification on,
 * without touching any process-wide TLS setting. Same contract as msal-node's own HttpClient:
 * every status resolves with the parsed JSON body; socket errors reject.
 */
export function msalHttpsClient(caPem: string, sent: SentRequest[] = []): INetworkModule {
  function send<T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout = 10_000): Promise<NetworkResponse<T>> {
    sent.push({ method, url });
    return new Promise((resolve, reject) => {
      const body = method === 'POST' ? Buffer.from(options?.body ?? '') : undefined;
      const req = request(
        url,
        { method, ca: caPem, headers: { ...options?.headers, ...(body ? { 'content-length': String(body.length) } : {}) }, timeout },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
            try {
              resolve({ headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, status: res.statusCode ?? 0 });
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${url} timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, 'GET', options, timeout),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}
