import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig, NotifierConfig, StoreConfig, TicketingConfig } from '../config';
import { ConfigError } from '../domain/errors';
import type { SourceRef } from '../domain/transferJobSpec';
import type { AuditLog, AuditReader } from '../ports/auditLog';
import type { DocumentStore } from '../ports/documentStore';
import type { DestinationFactory } from '../ports/destinationFactory';
import type { HostKeyStore } from '../ports/hostKeyStore';
import type { IdentityProvider } from '../ports/identityProvider';
import type { ChannelPost, Notifier } from '../ports/notifier';
import type { RequestRepository } from '../ports/requestRepository';
import type { SchemeSecretStore } from '../ports/secretStore';
import type { StorageSource } from '../ports/storageSource';
import type { TicketReader, Ticketing } from '../ports/ticketing';
import type { WorkflowLog } from '../ports/workflowLog';
import { JsonlAudit } from './audit/jsonlAudit';
import { destinationFactory } from './destination/destinationFactory';
import { LocalIdentity } from './identity/localIdentity';
import { PerCloudIdentity } from './identity/perCloudIdentity';
import { LogNotifier } from './notifier/logNotifier';
import { EnvSecrets } from './secrets/envSecrets';
import { FileSecrets } from './secrets/fileSecrets';
import { SecretReferences } from './secrets/secretReferences';
import { LocalSource } from './source/localSource';
import { MemoryDocuments } from './store/memoryDocuments';
import { MemoryHostKeys } from './store/memoryHostKeys';
import { MemoryRequestRepository } from './store/memoryRequestRepository';
import { LocalTicketing } from './ticketing/localTicketing';

/**
 * The adapter registry: for each port, its kinds and how to build each one. It is the only module
 * that imports concrete adapters; the roots (src/index.ts, src/cli/main.ts, later a worker) build
 * from it. Each table is checked at compile time against its config union (`satisfies`), so a
 * kind added to the config without a factory, or a factory that does not implement its port, does
 * not compile. Adding a backend is one entry here, one kind in config.ts and one conformance file.
 */
export interface BuildContext {
  config: AppConfig;
  log: WorkflowLog;
  env: NodeJS.ProcessEnv;
  /** The bot's public base URL (known only once it listens on a free port in tests). */
  baseUrl: () => string;
  /** The audit chain's HMAC key (FILEFERRY_AUDIT_KEY_REF, resolved by `openStores`). */
  auditKey?: Buffer;
  /** How the bot posts into a Teams channel (the bot's root supplies it), for FILEFERRY_NOTIFIER=teams-channel. */
  channelPost?: ChannelPost;
}

type Factory<Settings, Port> = (settings: Settings, ctx: BuildContext) => Port;
type Kinds<Union extends { kind: string }, Port> = { [K in Union['kind']]: Factory<Extract<Union, { kind: K }>, Port> };

/** What FILEFERRY_STORE provides: everything the bot must keep. */
export interface Stores {
  requests: RequestRepository;
  hostKeys: HostKeyStore;
  audit: AuditLog & AuditReader;
  /** Versioned JSON documents: idempotency keys, queued records, claims … (see ports/documentStore.ts). */
  documents: DocumentStore;
  /** Closes connections and files; called last at shutdown. */
  close(): void | Promise<void>;
}

type ServiceNowSettings = Extract<TicketingConfig, { kind: 'servicenow' }>;

/** The integration user's credentials (Basic, or OAuth client credentials), each by secret reference. */
function serviceNowAuthOf(s: ServiceNowSettings, ctx: Pick<BuildContext, 'env'> & Partial<BuildContext>) {
  const secrets = buildSecrets(ctx);
  const ref = (r: string) => () => secrets.resolve(r);
  const needs = (value: string | undefined, variable: string): string => {
    if (!value) throw new ConfigError(`FILEFERRY_TICKETING=servicenow needs ${variable}.`, 'Set the ServiceNow integration user (Basic) or SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET_REF (OAuth); see the README.');
    return value;
  };
  if (s.SERVICENOW_USERNAME && !s.SERVICENOW_PASSWORD_REF) needs(undefined, 'SERVICENOW_PASSWORD_REF (the integration user\'s password, by secret reference)');
  const user = s.SERVICENOW_USERNAME ? { username: s.SERVICENOW_USERNAME, password: ref(s.SERVICENOW_PASSWORD_REF!) } : undefined;
  return s.SERVICENOW_CLIENT_ID
    ? { kind: 'oauth' as const, clientId: s.SERVICENOW_CLIENT_ID, clientSecret: ref(needs(s.SERVICENOW_CLIENT_SECRET_REF, 'SERVICENOW_CLIENT_SECRET_REF')), ...user }
    : { kind: 'basic' as const, username: needs(s.SERVICENOW_USERNAME, 'SERVICENOW_USERNAME'), password: user!.password };
}

/** Reads tickets back for `fileferry audit verify --against-tickets`, from the FILEFERRY_TICKETING system. */
export function ticketReaderFor(config: AppConfig, env: NodeJS.ProcessEnv): TicketReader {
  const t = config.ticketing;
  if (t.kind === 'local') {
    const { LocalTicketReader } = require('./ticketing/localTicketReader') as typeof import('./ticketing/localTicketReader');
    return new LocalTicketReader(new LocalTicketing({ file: join(config.dataDir, 'tickets.jsonl'), baseUrl: () => config.publicUrl }));
  }
  const { ServiceNowTicketReader } = require('./ticketing/serviceNowTicketReader') as typeof import('./ticketing/serviceNowTicketReader');
  return new ServiceNowTicketReader({
    instanceUrl: t.SERVICENOW_INSTANCE_URL,
    auth: serviceNowAuthOf(t, { env }),
    requestTable: t.SERVICENOW_REQUEST_TABLE,
    auditTable: t.SERVICENOW_AUDIT_TABLE,
    timeoutMs: t.SERVICENOW_TIMEOUT_SECONDS * 1000,
  });
}

export const ticketingKinds = {
  local: (_settings, ctx) => new LocalTicketing({ file: join(ctx.config.dataDir, 'tickets.jsonl'), baseUrl: ctx.baseUrl }),
  servicenow: (s, ctx) => {
    const { ServiceNowTicketing } = require('./ticketing/serviceNowTicketing') as typeof import('./ticketing/serviceNowTicketing');
    const { fieldMapFromJson } = require('./ticketing/serviceNowFieldMap') as typeof import('./ticketing/serviceNowFieldMap');
    const auth = serviceNowAuthOf(s, ctx);
    const file = s.SERVICENOW_FIELD_MAP_FILE;
    let fieldMapText: string | undefined;
    try {
      fieldMapText = file ? readFileSync(file, 'utf8') : undefined;
    } catch (e) {
      throw new ConfigError(`SERVICENOW_FIELD_MAP_FILE (${file}) cannot be read (${(e as NodeJS.ErrnoException).code}).`, 'Point it at a JSON file of extra ticket fields.');
    }
    return new ServiceNowTicketing({
      instanceUrl: s.SERVICENOW_INSTANCE_URL,
      auth,
      requestTable: s.SERVICENOW_REQUEST_TABLE,
      auditTable: s.SERVICENOW_AUDIT_TABLE,
      ...(s.SERVICENOW_AUDIT_GROUP ? { auditGroup: s.SERVICENOW_AUDIT_GROUP } : {}),
      ...(fieldMapText ? { fieldMap: fieldMapFromJson(fieldMapText, file!) } : {}),
      ...(s.SERVICENOW_CLOSE_STATE ? { closeState: s.SERVICENOW_CLOSE_STATE } : {}),
      ...(s.SERVICENOW_CLOSE_CODE ? { closeCode: s.SERVICENOW_CLOSE_CODE } : {}),
      ...(s.SERVICENOW_FAIL_STATE ? { failState: s.SERVICENOW_FAIL_STATE } : {}),
      ...(s.SERVICENOW_FAIL_CLOSE_CODE ? { failCloseCode: s.SERVICENOW_FAIL_CLOSE_CODE } : {}),
      timeoutMs: s.SERVICENOW_TIMEOUT_SECONDS * 1000,
    });
  },
} satisfies Kinds<TicketingConfig, Ticketing>;

export const storeKinds = {
  sqlite: (_settings, ctx) => {
    const { openSqliteStores } = require('./store/sqliteStores') as typeof import('./store/sqliteStores');
    return openSqliteStores({ file: join(ctx.config.dataDir, 'fileferry.db'), ...(ctx.auditKey ? { auditKey: ctx.auditKey } : {}) });
  },
  memory: (_settings, ctx) => ({
    requests: new MemoryRequestRepository(),
    hostKeys: new MemoryHostKeys(),
    documents: new MemoryDocuments(),
    audit: new JsonlAudit(join(ctx.config.dataDir, 'audit.jsonl'), { key: ctx.auditKey }),
    close: () => undefined,
  }),
  dynamodb: (s, ctx) => {
    const { openDynamoStores } = require('./store/dynamoStores') as typeof import('./store/dynamoStores');
    return openDynamoStores({ tablePrefix: s.FILEFERRY_DYNAMODB_TABLE_PREFIX, requestTtlDays: s.FILEFERRY_DYNAMODB_REQUEST_TTL_DAYS, ...(ctx.auditKey ? { auditKey: ctx.auditKey } : {}) });
  },
  cosmos: (s, ctx) => {
    const { openCosmosStores } = require('./store/cosmosStores') as typeof import('./store/cosmosStores');
    const secrets = buildSecrets(ctx);
    return openCosmosStores({
      endpoint: s.COSMOS_ENDPOINT,
      database: s.COSMOS_DATABASE,
      ...(s.COSMOS_KEY_REF ? { key: () => secrets.resolve(s.COSMOS_KEY_REF!) } : {}),
      ...(ctx.auditKey ? { auditKey: ctx.auditKey } : {}),
    });
  },
} satisfies Kinds<StoreConfig, Stores>;

/**
 * The stores FILEFERRY_STORE names, with the audit key FILEFERRY_AUDIT_KEY_REF names resolved
 * (its UTF-8 bytes): for the bot and for `fileferry audit`, so both read one chain the same way.
 */
export async function openStores(config: AppConfig, env: NodeJS.ProcessEnv, ctx: Partial<BuildContext> = {}): Promise<Stores> {
  const auditKey = config.auditKeyRef ? Buffer.from(await buildSecrets({ env }).resolve(config.auditKeyRef), 'utf8') : undefined;
  const full: BuildContext = { config, env, log: ctx.log ?? silentLog, baseUrl: ctx.baseUrl ?? (() => config.publicUrl), ...(auditKey ? { auditKey } : {}) };
  return pick(storeKinds, config.store, full);
}

const silentLog: WorkflowLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export const notifierKinds = {
  log: (_settings, ctx) => new LogNotifier(ctx.log),
  'teams-workflow': (s, ctx) => {
    const { TeamsWorkflowNotifier } = require('./notifier/teamsWorkflowNotifier') as typeof import('./notifier/teamsWorkflowNotifier');
    const secrets = buildSecrets(ctx);
    return new TeamsWorkflowNotifier({ url: (signal) => secrets.resolve(s.FILEFERRY_AUDIT_WEBHOOK_URL, signal) });
  },
  'teams-channel': (s, ctx) => {
    const { TeamsChannelNotifier } = require('./notifier/teamsChannelNotifier') as typeof import('./notifier/teamsChannelNotifier');
    const post = ctx.channelPost;
    // Only the bot's root can post as the bot; a root without one (the CLI) has no channel to offer.
    if (!post) throw new ConfigError('FILEFERRY_NOTIFIER=teams-channel needs the bot, which this process does not run.', 'Use FILEFERRY_NOTIFIER=teams-workflow or log here.');
    return new TeamsChannelNotifier({ post, ...(s.FILEFERRY_AUDIT_CHANNEL_ID ? { channelId: s.FILEFERRY_AUDIT_CHANNEL_ID } : {}) });
  },
} satisfies Kinds<NotifierConfig, Notifier>;

/**
 * One SecretStore per reference scheme; a reference's own scheme picks it (no selector variable).
 * The cloud ones load their SDK on first use, so a bot that never names one never pays for it.
 */
export const secretSchemes = {
  env: (ctx: BuildContext) => new EnvSecrets(ctx.env),
  file: () => new FileSecrets(),
  'aws-sm': () =>
    lazySecrets('aws-sm', () => {
      const { AwsSecretsManagerSecrets } = require('./secrets/awsSecretsManagerSecrets') as typeof import('./secrets/awsSecretsManagerSecrets');
      return new AwsSecretsManagerSecrets();
    }),
  'azure-kv': (ctx: BuildContext) =>
    lazySecrets('azure-kv', () => {
      const { AzureKeyVaultSecrets } = require('./secrets/azureKeyVaultSecrets') as typeof import('./secrets/azureKeyVaultSecrets');
      return new AzureKeyVaultSecrets(azureKeyVaultOptions(ctx.env));
    }),
} satisfies Record<string, (ctx: BuildContext) => SchemeSecretStore>;

/** Sources by URL scheme, read with the process's own identity (the CLI, later push mode). SDKs load on first use. */
export const sourceSchemes = {
  s3: (env: NodeJS.ProcessEnv): StorageSource => {
    const { S3Source } = require('./source/s3Source') as typeof import('./source/s3Source');
    return new S3Source({ region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1' });
  },
  azblob: (env: NodeJS.ProcessEnv): StorageSource => {
    const { azureSourceFromEnv } = require('./source/azureSourceFromEnv') as typeof import('./source/azureSourceFromEnv');
    return azureSourceFromEnv(env);
  },
  file: (): StorageSource => new LocalSource('/'),
} satisfies Record<string, (env: NodeJS.ProcessEnv) => StorageSource>;

export type SourceScheme = keyof typeof sourceSchemes;

/**
 * Key Vault outside Azure's public cloud: FILEFERRY_AZURE_KEYVAULT_SUFFIX replaces
 * `vault.azure.net` in https://<vault>.vault.azure.net (vault.azure.cn, vault.usgovcloudapi.net …).
 */
function azureKeyVaultOptions(env: NodeJS.ProcessEnv): { vaultUrl?: (vault: string) => string } {
  const suffix = env.FILEFERRY_AZURE_KEYVAULT_SUFFIX?.trim();
  return suffix ? { vaultUrl: (vault) => `https://${vault}.${suffix}` } : {};
}

function lazySecrets(scheme: string, load: () => SchemeSecretStore): SchemeSecretStore {
  let store: SchemeSecretStore | undefined;
  const get = (): SchemeSecretStore => (store ??= load());
  return { scheme, check: (ref) => get().check(ref), resolve: (ref, signal) => get().resolve(ref, signal) };
}

/**
 * Sign-in, per cloud: IAM Identity Center for AWS and Entra ID for Azure where configured; the
 * local sign-in (over the local folder source) for any cloud that is not.
 */
export function identityFor(ctx: BuildContext): IdentityProvider {
  const local = new LocalIdentity(() => new LocalSource(ctx.config.sourcesDir));
  const { aws, entra } = ctx.config.signIn;
  const byCloud: Record<string, IdentityProvider> = {};
  if (aws) {
    const { AwsSsoIdentity } = require('./identity/awsSsoIdentity') as typeof import('./identity/awsSsoIdentity');
    const { S3Source } = require('./source/s3Source') as typeof import('./source/s3Source');
    const { untilExpiry } = require('./source/expiringCredentials') as typeof import('./source/expiringCredentials');
    byCloud.AWS = new AwsSsoIdentity({ ...aws, log: ctx.log, openSource: (credentials, region) => new S3Source({ region, credentials: untilExpiry(credentials), listRegion: region }) });
  }
  if (entra) {
    const { EntraIdentity } = require('./identity/entraIdentity') as typeof import('./identity/entraIdentity');
    const { AzureBlobSource } = require('./source/azureBlobSource') as typeof import('./source/azureBlobSource');
    byCloud.Azure = new EntraIdentity({
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      ...(entra.authority ? { authority: entra.authority } : {}),
      log: ctx.log,
      openSource: (credential, location) => {
        const accountUrl = entra.storageAccounts[location.toLowerCase()];
        if (!accountUrl) throw new ConfigError(`No Azure storage account is configured for the location ${location}.`, 'Ask an operator to add it to FILEFERRY_AZURE_STORAGE_ACCOUNTS (location=https://<account>.blob.core.windows.net).');
        return new AzureBlobSource({ accountUrl, credential });
      },
    });
  }
  return new PerCloudIdentity(byCloud, local);
}

/**
 * The sources the service may read with its own identity, for resuming a transfer after a
 * restart: the local folder. S3 and Azure reads need the requester's sign-in, which a restart ends.
 */
export function serviceSourceFor(ctx: BuildContext): (source: SourceRef) => StorageSource | undefined {
  return (source) => (source.scheme === 'file' ? new LocalSource(ctx.config.sourcesDir) : undefined);
}

/** Everything the bot's workflow is built from, for this configuration. */
export interface Backends {
  ticketing: Ticketing;
  stores: Stores;
  notifier: Notifier;
  secrets: SecretReferences;
  identity: IdentityProvider;
  destinations: DestinationFactory;
  serviceSource: (source: SourceRef) => StorageSource | undefined;
}

/** Everything the bot is built from; the stores are opened first (their audit key is resolved then). */
export async function buildBackends(ctx: BuildContext): Promise<Backends> {
  const { config } = ctx;
  const stores = await openStores(config, ctx.env, ctx);
  return {
    ticketing: pick(ticketingKinds, config.ticketing, ctx),
    stores,
    notifier: pick(notifierKinds, config.notifier, ctx),
    secrets: buildSecrets(ctx),
    identity: identityFor(ctx),
    destinations: destinationFactory,
    serviceSource: serviceSourceFor(ctx),
  };
}

export function buildSecrets(ctx: Pick<BuildContext, 'env'> & Partial<BuildContext>): SecretReferences {
  return new SecretReferences(Object.values(secretSchemes).map((make) => make(ctx as BuildContext)));
}

function pick<Union extends { kind: string }, Port>(kinds: Kinds<Union, Port>, settings: Union, ctx: BuildContext): Port {
  const make = (kinds as unknown as Record<string, Factory<Union, Port> | undefined>)[settings.kind];
  // Config validation lists the same kinds, so this is reached only by a programming error.
  if (!make) throw new ConfigError(`No adapter is registered for the kind ${JSON.stringify(settings.kind)}.`, 'Report this: config.ts and adapters/registry.ts disagree.');
  return make(settings, ctx);
}

export { destinationFactory };
