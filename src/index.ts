import { mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { buildBackends } from './adapters/registry';
import { pushKinds } from './adapters/registry/pushKinds';
import { ApprovalNotifications } from './bot/approvalNotifications';
import { CardActions } from './bot/cardActions';
import { watchChannelInstalls } from './bot/channelInstallEvents';
import { ChannelInstalls } from './bot/channelInstalls';
import { ChannelPoster } from './bot/channelPoster';
import { FileFerryBot } from './bot/fileFerryBot';
import { ProactiveMessenger } from './bot/proactive';
import { ProgressReporter } from './bot/progressReporter';
import { TransferNotifications } from './bot/transferNotifications';
import { createTurnErrorHandler } from './bot/turnError';
import { checkSavedSecrets } from './checkSavedSecrets';
import { loadConfig, type AppConfig } from './config';
import { ConfigError, NotifyError, isFerryError } from './domain/errors';
import { createLogger, errorFields, type Logger } from './log';
import { Metrics } from './metrics';
import { buildPushMode, type PushMode } from './push/pushMode';
import type { AuditLog, AuditReader } from './ports/auditLog';
import type { ChannelPost, Notifier } from './ports/notifier';
import { canLookUpTickets, type Ticketing } from './ports/ticketing';
import { closeServer, createServer, listen } from './server';
import { TransferThreads, type SpawnTransferWorker } from './transfer/thread/transferThreads';
import type { TransferRequest, TransferResult, TransferTuning } from './transfer/types';
import { RequestWorkflow } from './workflow/requestWorkflow';

/** Knobs tests turn; production uses none of them. */
export interface AppOverrides {
  logger?: Logger;
  /** Interface to listen on. Default: 127.0.0.1 in local mode (no auth), else 0.0.0.0. */
  host?: string;
  progressIntervalMs?: number;
  tuning?: Partial<TransferTuning>;
  runTransfer?: (request: TransferRequest) => Promise<TransferResult>;
}

export interface RunningApp {
  port: number;
  url: string;
  config: AppConfig;
  workflow: RequestWorkflow;
  audit: AuditLog & AuditReader;
  ticketing: Ticketing;
  notifier: Notifier;
  close(): Promise<void>;
}

/**
 * The composition root: config → adapters (from the registry) → workflow → bot → server, in that
 * order. With no MicrosoftAppId it runs in local mode
 * (Emulator / Agents Playground, no channel authentication) on loopback only, and says so loudly.
 */
export async function startFileFerry(config: AppConfig, overrides: AppOverrides = {}): Promise<RunningApp> {
  const log = overrides.logger ?? createLogger({ level: config.logLevel });
  if (config.production && !config.bot.appId) throw new Error('Refusing to start: NODE_ENV=production needs MicrosoftAppId.');
  if (config.localMode) warnLocalMode(log);

  await mkdir(config.sourcesDir, { recursive: true });
  for (const d of config.destinations) if (d.spec.protocol === 'local') await mkdir(d.spec.root, { recursive: true });

  let baseUrl = config.publicUrl;
  // The teams-channel notifier posts as the bot, which is built after the adapters: bound below.
  let channelPoster: ChannelPoster | undefined;
  const channelPost: ChannelPost = (card, options) => (channelPoster ? channelPoster.post(card, options) : Promise.reject(new NotifyError('INTERNAL', 'The bot is not running yet.', { retryable: true })));
  const backends = await buildBackends({ config, log, env: process.env, baseUrl: () => baseUrl, channelPost });
  const { ticketing, notifier, stores, secrets } = backends;
  try {
    await checkSavedSecrets(config.destinations, secrets);
  } catch (e) {
    await stores.close();
    throw e;
  }
  const documents = stores.documents;
  const threads = new TransferThreads(transferWorkers());
  const workflow = new RequestWorkflow({
    repository: stores.requests,
    hostKeys: stores.hostKeys,
    documents,
    identity: backends.identity,
    ticketing,
    audit: stores.audit,
    notifier,
    destinations: backends.destinations,
    secrets,
    serviceSource: backends.serviceSource,
    policy: {
      assignmentGroups: config.assignmentGroups,
      savedDestinations: config.destinations,
      allowAdHoc: config.allowAdHoc,
      allowPlainFtp: config.allowPlainFtp,
      autoLogoutSeconds: config.autoLogoutSeconds,
      browseIdleSeconds: config.browseIdleSeconds,
      ...(config.approval ? { approval: config.approval } : {}),
    },
    log,
    runTransfer: overrides.runTransfer,
    transferThreads: threads,
    tuning: overrides.tuning,
  });

  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.bot.appId,
    MicrosoftAppPassword: config.bot.appPassword,
    MicrosoftAppType: config.bot.appType,
    MicrosoftAppTenantId: config.bot.tenantId,
  });
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = createTurnErrorHandler(log);
  const messenger = new ProactiveMessenger(adapter, config.bot.appId ?? '');
  const installs = new ChannelInstalls(documents);
  channelPoster = new ChannelPoster(adapter, config.bot.appId ?? '', installs);
  const reporter = new ProgressReporter((target, card) => messenger.update(target.reference, target.activityId, card), log, {
    intervalMs: overrides.progressIntervalMs,
  });
  const metrics = new Metrics(() => workflow.activeTransfers);
  workflow.addListener(new TransferNotifications(reporter, messenger, log));
  workflow.addListener(metrics);
  workflow.addListener(new ApprovalNotifications({ adapter, appId: config.bot.appId ?? '', workflow, messenger, reporter, log }));
  // Transfers cut by the end of the last process: told to their owners now, resumable where possible.
  const interrupted = await workflow.recoverInterrupted();
  if (interrupted) log.warn({ interrupted }, 'transfers interrupted by the last shutdown were found and ended');
  const actions = new CardActions({ workflow, reporter, messenger, localMode: config.localMode, log });
  const bot = new FileFerryBot(workflow, actions, config.localMode, log);
  watchChannelInstalls(bot, installs, log);

  let ready = false;
  // The local ticket page has no sign-in of its own, so it is served only in local (loopback) mode.
  const ticketPage = config.localMode && canLookUpTickets(ticketing) ? (n: string) => ticketing.get(n) : undefined;
  // Push mode runs beside the bot when FILEFERRY_PUSH_RULES_FILE is set (same store, audit chain and notifier).
  let push: PushMode | undefined;
  if (config.pushRulesFile) {
    push = await buildPushMode(config.pushRulesFile, { destinations: config.destinations, documents, audit: stores.audit, notifier, log, listener: metrics, threads }, pushKinds(config, process.env, log));
    metrics.watchPush(() => push!.runner.waiting);
  }
  const server = createServer({ adapter, bot, metrics, log, ready: () => ready, ticketPage, ...(push?.sns ? { snsEndpoint: push.sns } : {}) });
  const host = overrides.host ?? (config.localMode ? '127.0.0.1' : '0.0.0.0');
  const port = await listen(server, config.port, host);
  if (config.port === 0) baseUrl = `http://localhost:${port}`;
  const expiry = setInterval(() => {
    workflow.expireStale().catch((e: unknown) => log.error({ ...errorFields(e) }, 'expiry sweep failed'));
  }, 60_000);
  expiry.unref();
  await push?.start();
  ready = true;
  log.info({ port, host, localMode: config.localMode, destinations: config.destinations.map((d) => d.name), ticketing: config.ticketing.kind, store: config.store.kind, notifier: config.notifier.kind }, 'FileFerry is listening');

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    config,
    workflow,
    audit: stores.audit,
    ticketing,
    notifier,
    async close() {
      ready = false;
      clearInterval(expiry);
      try {
        await push?.stop();
        await workflow.shutdown();
      } finally {
        reporter.close();
        await threads.close();
        await closeServer(server);
        // Last: the transfers' final records and audit events are written by now.
        await stores.close();
      }
    },
  };
}

function warnLocalMode(log: Logger): void {
  const lines = [
    'FileFerry is running in LOCAL MODE: MicrosoftAppId is not set, so incoming activities are NOT authenticated.',
    'It listens on loopback only. Use it with the Bot Framework Emulator or the Microsoft 365 Agents Playground.',
    'Set MicrosoftAppId and MicrosoftAppPassword (see the README) to connect it to Teams.',
  ];
  const bar = '*'.repeat(100);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `* ${l}`).join('\n')}\n${bar}\n\n`);
  log.warn({ localMode: true }, lines[0]!);
}

async function main(): Promise<void> {
  let app: RunningApp;
  try {
    app = await startFileFerry(loadConfig());
  } catch (e) {
    if (!isFerryError(e)) throw e;
    process.stderr.write(`FileFerry cannot start: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}\n`);
    process.exit(1);
  }
  process.stdout.write(`FileFerry bot: http://localhost:${app.port}/api/messages (health: /healthz, metrics: /metrics)\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping FileFerry…\n`);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`FileFerry failed to start: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  });
}

/**
 * Transfer worker threads, running src/worker.ts: dist/src/worker.js as shipped; run from the
 * TypeScript sources (tests, tsx), the worker loads them through tsx's require hook, since a
 * worker thread does not inherit the loader its parent was started with.
 */
export function transferWorkers(): SpawnTransferWorker {
  const file = join(__dirname, `worker${extname(__filename)}`);
  // SHARE_ENV: the workers read the environment the bot reads, as it is now, not a copy.
  if (extname(file) !== '.ts') return () => new Worker(file, { env: SHARE_ENV });
  const hook = require.resolve('tsx/cjs');
  return () => new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, { eval: true, env: SHARE_ENV });
}
