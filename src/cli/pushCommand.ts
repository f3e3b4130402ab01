import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildBackends, openStores } from '../adapters/registry';
import { pushKinds } from '../adapters/registry/pushKinds';
import { loadConfig } from '../config';
import { ConfigError } from '../domain/errors';
import { createLogger } from '../log';
import { ClaimLedger } from '../push/claimLedger';
import type { PushObjectRecord } from '../push/pushRecord';
import { buildPushMode } from '../push/pushMode';
import { retryFailed } from '../push/retryFailed';
import type { StoredDocument } from '../ports/documentStore';

export interface PushCommandOptions {
  rules?: string;
  rule?: string;
  json: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

const RECENT = 50;

/**
 * `fileferry push run --rules FILE` (push mode without the bot, until SIGINT/SIGTERM),
 * `fileferry push status [--rule NAME]` (the most recent objects and their state) and
 * `fileferry push retry OBJECT` (a failed object, by the id status prints or its URL, sent again
 * by the running push process). All use the store the bot's environment configures.
 */
export async function pushCommand(sub: string, args: string[], options: PushCommandOptions): Promise<number> {
  const config = loadConfig(options.env);
  if (sub === 'run') return run(options, config);
  const stores = await openStores(config, options.env);
  try {
    const ledger = new ClaimLedger(stores.documents);
    if (sub === 'status') return await status(ledger, options);
    const id = await findObject(ledger, args[0]!);
    const record = await retryFailed(ledger, stores.audit, id, `operator:${options.env.USER ?? 'cli'}`);
    options.out.write(options.json ? JSON.stringify({ id, state: record.state }) + '\n' : `Queued again: ${record.scheme}://${record.container}/${record.key} (rule ${record.rule}); the running push process sends it.\n`);
    return 0;
  } finally {
    await stores.close();
  }
}

async function run(options: PushCommandOptions, config: ReturnType<typeof loadConfig>): Promise<number> {
  const file = options.rules ? resolve(options.rules) : config.pushRulesFile;
  if (!file) throw new ConfigError('No push rules: pass --rules FILE or set FILEFERRY_PUSH_RULES_FILE.', 'Write a rules file as the README\'s "Push mode" section shows.');
  const log = createLogger({ level: config.logLevel });
  // As the bot does at start: a saved local folder destination exists before anything is sent to it.
  for (const d of config.destinations) if (d.spec.protocol === 'local') await mkdir(d.spec.root, { recursive: true });
  const backends = await buildBackends({ config, log, env: options.env, baseUrl: () => config.publicUrl });
  try {
    const mode = await buildPushMode(file, { destinations: config.destinations, documents: backends.stores.documents, audit: backends.stores.audit, notifier: backends.notifier, log }, pushKinds(config, options.env, log));
    await mode.start();
    options.out.write(`fileferry push: running ${mode.rules.rules.length} rule${mode.rules.rules.length === 1 ? '' : 's'} (${mode.rules.rules.map((r) => r.name).join(', ')}); Ctrl+C stops\n`);
    await new Promise<void>((done) => (options.signal.aborted ? done() : options.signal.addEventListener('abort', () => done(), { once: true })));
    await mode.stop();
    options.out.write('fileferry push: stopped\n');
    return 0;
  } finally {
    await backends.stores.close();
  }
}

/** The RECENT most recently changed records, read page by page (never the whole ledger at once). */
async function status(ledger: ClaimLedger, options: PushCommandOptions): Promise<number> {
  const recent: StoredDocument<PushObjectRecord>[] = [];
  for await (const doc of ledger.records(options.rule)) {
    recent.push(doc);
    if (recent.length > RECENT * 2) trim(recent);
  }
  trim(recent);
  if (options.json) {
    options.out.write(JSON.stringify(recent.map((d) => ({ id: d.id, updatedAt: d.updatedAt, ...d.body }))) + '\n');
    return 0;
  }
  if (!recent.length) options.out.write(options.rule ? `No objects for rule ${options.rule}.\n` : 'No pushed objects yet.\n');
  for (const d of recent) {
    const r = d.body;
    const tail = r.state === 'sent' ? `${r.remotePath} sha256 ${r.sha256 ?? '-'}` : r.state === 'failed' ? `${r.lastError?.code}: ${r.lastError?.message}${r.incident ? ` (incident ${r.incident.number})` : ''}` : r.note ?? (r.lastError ? `last error ${r.lastError.code}` : '');
    options.out.write(`${d.updatedAt}  ${r.state.padEnd(10)} ${r.rule}  ${r.scheme}://${r.container}/${r.key}  attempts ${r.attempts}  ${tail}\n    id ${d.id}\n`);
  }
  return 0;
}

function trim(docs: StoredDocument<PushObjectRecord>[]): void {
  docs.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  docs.length = Math.min(docs.length, RECENT);
}

/** An id as status prints it, or scheme://container/key (its latest failed version). */
async function findObject(ledger: ClaimLedger, object: string): Promise<string> {
  if (await ledger.get(object)) return object;
  const m = /^(s3|azblob|file):\/\/([^/]+)\/(.+)$/.exec(object);
  if (m) {
    let found: StoredDocument<PushObjectRecord> | undefined;
    for await (const doc of ledger.records()) {
      const r = doc.body;
      if (r.state === 'failed' && r.scheme === m[1] && r.container === m[2] && r.key === m[3] && (!found || doc.updatedAt > found.updatedAt)) found = doc;
    }
    if (found) return found.id;
  }
  throw new ConfigError(`No failed pushed object is ${JSON.stringify(object)}.`, 'Give the id `fileferry push status` prints, or s3://bucket/key of a failed object.', 'NOT_FOUND');
}
