import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { CONTAINER_SPECS, DEFAULT_COSMOS_DATABASE, containerDefinition } from '../../src/adapters/store/cosmosContainers';
import { generateTestCertificates } from './testCertificates';
import { tempDir } from './tmp';

/**
 * A key the SDK signs requests with. cosmosdb-server checks no signature, so any base64 will do;
 * this one is not a secret and works nowhere else.
 */
export const COSMOS_TEST_KEY = Buffer.from('fileferry-cosmosdb-server-test-key').toString('base64');

/** What the server saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  /** Cosmos's kind of POST: a query (`x-ms-documentdb-isquery`), an upsert, or neither (a create). */
  query: boolean;
  upsert: boolean;
  /** The `type=` of the Authorization header: `master` (account key) or `aad` (Entra token); never the signature. */
  authType?: string;
  faulted: boolean;
}

/** One canned answer the server gives instead of handling a request. */
export type CosmosFault = (
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** The connection is destroyed without an answer (a dropped network). */
  | { cut: true }
) & {
  /** Only a request this accepts takes the fault (default: the next request, whatever it is). */
  when?: (req: Omit<SeenRequest, 'faulted'>) => boolean;
};

/** For `when`: an item create (POST …/docs that is neither a query nor an upsert). */
export const isCreate = (req: Omit<SeenRequest, 'faulted'>): boolean => req.method === 'POST' && /\/docs\/?$/.test(req.url) && !req.query && !req.upsert;

export interface CosmosTestServer {
  /** https://127.0.0.1:PORT/ */
  endpoint: string;
  /** PEM of the throw-away CA that signed the server's certificate. */
  caPem: string;
  /**
   * What a CosmosClient (or openCosmosStores) needs to talk to this server: an https.Agent that
   * trusts its CA. Verification stays on: a client without this agent is refused.
   */
  clientOptions: Partial<CosmosClientOptions>;
  key: string;
  /** The database made at start, with every container of cosmosContainers.ts. */
  database: string;
  /** A client for the test harness only: reading past the adapters, tampering, creating and deleting containers. */
  admin: CosmosClient;
  /** Every request since start (or the last `seen.length = 0`). */
  seen: SeenRequest[];
  /** Answers the next requests with `faults`, in order (each waiting for a request its `when` accepts); later requests are handled again. */
  failNext(...faults: CosmosFault[]): void;
  stop(): Promise<void>;
}

/**
 * Starts @vercel/cosmosdb-server (in memory, empty at boot) in this process on a loopback port the
 * OS picks, over HTTPS with a certificate for 127.0.0.1 issued at run time by a throw-away CA (not
 * the package's bundled self-signed one), and creates the database and the containers exactly as
 * src/adapters/store/cosmosContainers.ts describes them. Faults are injected in front of the
 * server's own request handler: queued HTTP answers (429 with x-ms-retry-after-ms, 401, 403,
 * 503 …) or a cut connection.
 */
export async function startCosmosServer(options: { database?: string } = {}): Promise<CosmosTestServer> {
  const dir = await tempDir('cosmos');
  try {
    const certs = generateTestCertificates(dir.path);
    const server = createHttpsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) });
    // The package's handler is its one 'request' listener: put a fault gate in front of it.
    const [handle] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    const queue: CosmosFault[] = [];
    const seen: SeenRequest[] = [];
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const flag = (name: string): boolean => String(req.headers[name] ?? '').toLowerCase() === 'true';
      const authType = /(?:^|&)type=(\w+)/.exec(decodeURIComponent(String(req.headers.authorization ?? '')))?.[1];
      const info = {
        method: req.method ?? '',
        url: req.url ?? '',
        query: flag('x-ms-documentdb-isquery') || req.headers['content-type'] === 'application/query+json',
        upsert: flag('x-ms-documentdb-is-upsert'),
        ...(authType ? { authType } : {}),
      };
      // In order: the first queued fault waits for a request it accepts.
      const fault = queue[0] && (!queue[0].when || queue[0].when(info)) ? queue.shift() : undefined;
      seen.push({ ...info, faulted: fault !== undefined });
      if (!fault) return handle!(req, res);
      req.resume();
      req.on('end', () => {
        if ('cut' in fault) return void req.socket.destroy();
        const body = JSON.stringify(fault.body ?? { code: String(fault.status), message: `Fault injected by the test: HTTP ${fault.status}.` });
        res.writeHead(fault.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...fault.headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const endpoint = `https://127.0.0.1:${port}/`;
    const agent = new https.Agent({ ca: certs.caPem, keepAlive: true });
    const clientOptions: Partial<CosmosClientOptions> = { agent };
    const admin = new CosmosClient({ endpoint, key: COSMOS_TEST_KEY, ...clientOptions });
    const database = options.database ?? DEFAULT_COSMOS_DATABASE;
    const { database: db } = await admin.databases.createIfNotExists({ id: database });
    for (const design of Object.values(CONTAINER_SPECS)) await db.containers.createIfNotExists(containerDefinition(design));

    async function stop(): Promise<void> {
      try {
        admin.dispose();
        agent.destroy();
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      } finally {
        await dir.remove();
      }
    }

    return { endpoint, caPem: certs.caPem, clientOptions, key: COSMOS_TEST_KEY, database, admin, seen, failNext: (...faults) => void queue.push(...faults), stop };
  } catch (e) {
    await dir.remove().catch(() => undefined);
    throw e;
  }
}
