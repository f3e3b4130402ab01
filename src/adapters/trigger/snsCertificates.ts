import { get, type Agent } from 'node:https';
import { X509Certificate } from 'node:crypto';

/** Fetches the PEM text at an https URL; rejects on anything but a 200 with a small body. */
export type CertificateFetcher = (url: string) => Promise<string>;

const MAX_PEM_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

/**
 * The default fetcher: one GET over Node's https (TLS verified against the system CAs, or the
 * given agent's), no redirects followed, a 10 s timeout, only a 200 with at most 64 KiB accepted.
 */
export function httpsCertificateFetcher(agent?: Agent): CertificateFetcher {
  return (url) =>
    new Promise<string>((resolve, reject) => {
      const request = get(url, { agent, timeout: FETCH_TIMEOUT_MS }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode} for the signing certificate`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_PEM_BYTES) request.destroy(new Error('the signing certificate is too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('timed out fetching the signing certificate')));
      request.on('error', reject);
    });
}

/**
 * SNS signing certificates by URL. Only certificates that parsed and are within their validity
 * dates are kept (an error page or a failed fetch is never cached, so one bad answer does not
 * poison later messages); entries expire after a day and the cache holds at most `max`.
 * Concurrent requests for one URL share one fetch.
 */
export class SnsCertificates {
  private readonly cache = new Map<string, { cert: X509Certificate; until: number }>();
  private readonly inFlight = new Map<string, Promise<X509Certificate>>();

  constructor(
    private readonly fetcher: CertificateFetcher = httpsCertificateFetcher(),
    private readonly max = 50,
    private readonly ttlMs = 24 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(url: string): Promise<X509Certificate> {
    const hit = this.cache.get(url);
    if (hit && hit.until > this.now()) return hit.cert;
    const pending = this.inFlight.get(url);
    if (pending) return pending;
    const fetching = this.load(url).finally(() => this.inFlight.delete(url));
    this.inFlight.set(url, fetching);
    return fetching;
  }

  private async load(url: string): Promise<X509Certificate> {
    const cert = new X509Certificate(await this.fetcher(url));
    const now = this.now();
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) throw new Error('the signing certificate is not within its validity dates');
    this.cache.delete(url);
    this.cache.set(url, { cert, until: now + this.ttlMs });
    while (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value as string);
    return cert;
  }
}
