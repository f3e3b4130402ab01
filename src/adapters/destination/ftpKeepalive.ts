import type { FTPContext, FTPResponse } from 'basic-ftp';

/**
 * Keeps an FTP control connection alive while a long data transfer runs, by sending NOOP on it.
 *
 * Why: during an upload only the data connection carries traffic. Firewalls and NAT gateways drop
 * the idle control connection after a few minutes, and the client then waits forever for the
 * "226 Transfer complete" that can no longer arrive (the hangs reported as basic-ftp #123 / #209).
 *
 * The catch: basic-ftp runs one command at a time and hands every reply that arrives during the
 * upload to the upload's handler, which takes any 2xx as "transfer complete". proftpd answers a
 * NOOP during a transfer at once ("200 NOOP: data transfer in progress", measured), which would
 * end the upload early and shift every later reply by one. vsftpd answers them only after the 226.
 * So the keepalive also filters the control replies: while NOOPs are unanswered, a 200 reply (or a
 * reply that names NOOP) is taken as the answer to one of them and never reaches basic-ftp.
 * Replies arrive in the order commands were sent, so once the next real command has been answered,
 * every earlier NOOP has been too: `settle()` then clears the count.
 *
 * This hooks basic-ftp's FTPContext reply dispatch (`_passToHandler`, a documented protected
 * method of basic-ftp 6.x); the unit of change is this one file.
 */
export class ControlKeepalive {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set when the server rejects NOOP during transfers: sending more would only add noise. */
  private refused = false;
  /** NOOPs sent so far (for tests and logs). */
  sent = 0;

  constructor(private readonly ftp: FTPContext, private readonly intervalMs: number) {
    const internals = ftp as unknown as { _passToHandler(response: Error | FTPResponse): void };
    const deliver = internals._passToHandler.bind(ftp);
    internals._passToHandler = (response: Error | FTPResponse): void => {
      if (this.pending > 0 && this.isNoopReply(response)) {
        this.pending--;
        return;
      }
      deliver(response);
    };
  }

  /** Starts sending NOOP every `intervalMs` (0 disables). */
  start(): void {
    this.stop();
    if (this.intervalMs <= 0 || this.refused) return;
    this.timer = setInterval(() => {
      if (this.ftp.closed || this.refused) return;
      try {
        this.pending++;
        this.sent++;
        this.ftp.send('NOOP');
      } catch {
        this.pending--;
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Call after a later command's reply arrived: every NOOP before it has been answered. */
  settle(): void {
    this.pending = 0;
  }

  private isNoopReply(response: Error | FTPResponse): boolean {
    const code = (response as { code?: unknown }).code;
    const message = String((response as { message?: unknown }).message ?? '');
    if (typeof code !== 'number') return false;
    if (code === 200) return true;
    if (code >= 400 && /\bNOOP\b/i.test(message)) {
      this.refused = true;
      return true;
    }
    return false;
  }
}
