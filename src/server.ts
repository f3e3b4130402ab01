import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityHandler, CloudAdapter } from 'botbuilder';
import restify, { type Request, type Response, type Server } from 'restify';
import { errorFields, withLogContext, type Logger } from './log';
import type { Metrics } from './metrics';

export interface ServerDeps {
  adapter: CloudAdapter;
  bot: ActivityHandler;
  metrics: Metrics;
  log: Logger;
  /** True once the bot can serve turns (readiness probe). */
  ready: () => boolean;
  /** The local ticket page (local ticketing only): the ticket as plain data, or undefined. */
  ticketPage?: (number: string) => Promise<object | undefined>;
  /** Push mode's SNS endpoint (S3 events posted by SNS): served at POST /api/push/sns when given. */
  snsEndpoint?: {
    handle(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<{ status: number; body?: string }>;
  };
}

const CORRELATION = /^[A-Za-z0-9._-]{8,80}$/;

/**
 * The HTTP surface: POST /api/messages (Bot Framework activities through CloudAdapter, which
 * checks the channel's token unless the bot runs in local mode, and answers 401 without running a
 * turn when it is missing or bad), GET /healthz (alive), /readyz (ready to serve turns), /metrics
 * (Prometheus) and, with local ticketing, /tickets/:number.
 *
 * Every request runs in a log context with a correlation ID (the caller's x-correlation-id, else a
 * new one), returned in the response header and shown on error cards.
 */
export function createServer(deps: ServerDeps): Server {
  const server = restify.createServer({ name: 'fileferry', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: 1024 * 1024, mapParams: false }));
  server.use(restify.plugins.queryParser({ mapParams: false }));

  server.post('/api/messages', async (req: Request, res: Response) => {
    const correlationId = correlationOf(req);
    res.header('x-correlation-id', correlationId);
    await withLogContext({ correlationId }, async () => {
      try {
        await deps.adapter.process(req, res, (context) => deps.bot.run(context));
      } catch (e) {
        deps.log.error({ ...errorFields(e) }, 'activity processing failed');
        if (!res.headersSent) res.send(500, { error: 'internal error', correlationId });
      }
    });
  });

  server.get('/healthz', async (_req: Request, res: Response) => {
    res.send(200, { status: 'ok' });
  });

  server.get('/readyz', async (_req: Request, res: Response) => {
    const ready = deps.ready();
    res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'starting' });
  });

  server.get('/metrics', async (_req: Request, res: Response) => {
    const body = await deps.metrics.text();
    res.setHeader('content-type', deps.metrics.contentType);
    res.sendRaw(200, body);
  });

  if (deps.ticketPage) {
    const page = deps.ticketPage;
    server.get('/tickets/:number', async (req: Request, res: Response) => {
      const number = String(req.params.number ?? '');
      const ticket = /^[A-Z]{3}\d{7}$/.test(number) ? await page(number) : undefined;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      if (ticket) res.sendRaw(200, html(`Ticket ${number}`, `<pre>${escapeHtml(JSON.stringify(ticket, null, 2))}</pre>`));
      else res.sendRaw(404, html(`Ticket ${number}`, '<p>No such ticket.</p>'));
    });
  }

  if (deps.snsEndpoint) {
    const sns = deps.snsEndpoint;
    // SNS posts text/plain JSON; the body parser leaves that as a string (and keeps rawBody for
    // application/json). The endpoint checks the signature itself, so no other auth applies.
    server.post('/api/push/sns', async (req: Request, res: Response) => {
      const raw = req as Request & { rawBody?: unknown; body?: unknown };
      const body =
        typeof raw.rawBody === 'string' ? raw.rawBody
          : typeof raw.body === 'string' ? raw.body
            : Buffer.isBuffer(raw.body) ? raw.body.toString('utf8')
              : raw.body === undefined ? '' : JSON.stringify(raw.body);
      try {
        const answer = await sns.handle(req.headers, body);
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.sendRaw(answer.status, answer.body ?? '');
      } catch (e) {
        deps.log.error({ ...errorFields(e) }, 'SNS request failed');
        if (!res.headersSent) res.sendRaw(500, 'internal error');
      }
    });
  }

  server.on('restifyError', (req: Request, res: Response, err: Error, callback: () => void) => {
    deps.log.warn({ path: req.path(), ...errorFields(err) }, 'HTTP error');
    callback();
  });
  return server;
}

/** Starts listening; resolves with the bound port (0 picks a free one). */
export function listen(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    const http = server.server as HttpServer;
    http.once('error', reject);
    server.listen(port, host, () => {
      http.off('error', reject);
      resolve((http.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const http = server.server as HttpServer;
    http.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function correlationOf(req: Request): string {
  const given = req.header('x-correlation-id') || req.header('x-request-id');
  return given && CORRELATION.test(given) ? given : randomUUID();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function html(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
