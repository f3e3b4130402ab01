/**
 * STOP-GAP for tests only, the global-fetch twin of trustCaForPort.ts. EntraIdentity's default
 * network client is Node's global fetch (undici inside Node), which trusts only the system store
 * and NODE_EXTRA_CA_CERTS (read at process start). To let the bot, in-process, reach the fake
 * Entra ID over HTTPS with certificate verification on, this routes fetch requests to `origin`
 * only through a dispatcher whose TLS connections trust `caPem`; every other request goes through
 * the dispatcher that was there before.
 *
 * The npm `undici` package is not installed here (only undici-types), so `setGlobalDispatcher`
 * cannot be imported. Node's bundled undici keeps its global dispatcher under
 * `Symbol.for('undici.globalDispatcher.1')` (the same slot npm undici's setGlobalDispatcher
 * writes), and the Agent class is that dispatcher's constructor. Returns the function that puts
 * the original dispatcher back.
 */

interface DispatchOptions {
  origin?: string | URL;
}

interface Dispatcher {
  dispatch(options: DispatchOptions, handler: unknown): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

type AgentClass = new (options: { connect: { ca: string } }) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

export async function trustCaForFetch(origin: string, caPem: string): Promise<() => Promise<void>> {
  const slot = globalThis as unknown as Record<symbol, Dispatcher | undefined>;
  // Node loads its undici (and creates the global Agent) on the first fetch; a data: URL needs no network.
  if (!slot[GLOBAL_DISPATCHER]) await (await fetch('data:,')).text();
  const original = slot[GLOBAL_DISPATCHER];
  if (!original) throw new Error("Node's fetch keeps no global dispatcher under Symbol.for('undici.globalDispatcher.1'): this Node version needs another way to trust the test CA.");
  const Agent = original.constructor as AgentClass;
  const trusted = new Agent({ connect: { ca: caPem } });
  const wanted = new URL(origin).origin;
  const router: Dispatcher = {
    dispatch: (options, handler) => (options.origin !== undefined && new URL(String(options.origin)).origin === wanted ? trusted : original).dispatch(options, handler),
    close: () => trusted.close(),
    destroy: () => trusted.destroy(),
  };
  slot[GLOBAL_DISPATCHER] = router;
  return async () => {
    if (slot[GLOBAL_DISPATCHER] === router) slot[GLOBAL_DISPATCHER] = original;
    await trusted.destroy().catch(() => undefined);
  };
}
