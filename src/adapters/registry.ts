import { join } from 'node:path';
import type { AppConfig, NotifierConfig, StoreConfig, TicketingConfig } from '../config';
import { ConfigError } from '../domain/errors';
import type { SourceRef } from '../domain/transferJobSpec';
import type { AuditLog, AuditReader } from '../ports/auditLog';
import type { DestinationFactory } from '../ports/destinationFactory';
import type { HostKeyStore } from '../ports/hostKeyStore';
import type { IdentityProvider } from '../ports/identityProvider';
import type { Notifier } from '../ports/notifier';
import type { RequestRepository } from '../ports/requestRepository';
import type { SchemeSecretStore } from '../ports/secretStore';
import type { StorageSource } from '../ports/storageSource';
import type { Ticketing } from '../ports/ticketing';
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
}

type Factory<Settings, Port> = (settings: Settings, ctx: BuildContext) => Port;
type Kinds<Union extends { kind: string }, Port> = { [K in Union['kind']]: Factory<Extract<Union, { kind: K }>, Port> };

/** What FILEFERRY_STORE provides: everything the bot must keep. */
export interface Stores {
  requests: RequestRepository;
  hostKeys: HostKeyStore;
  audit: AuditLog & AuditReader;
}

export const ticketingKinds = {
  local: (_settings, ctx) => new LocalTicketing({ file: join(ctx.config.dataDir, 'tickets.jsonl'), baseUrl: ctx.baseUrl }),
} satisfies Kinds<TicketingConfig, Ticketing>;

export const storeKinds = {
  memory: (_settings, ctx) => ({ requests: new MemoryRequestRepository(), hostKeys: new MemoryHostKeys(), audit: new JsonlAudit(join(ctx.config.dataDir, 'audit.jsonl')) }),
} satisfies Kinds<StoreConfig, Stores>;

export const notifierKinds = {
  log: (_settings, ctx) => new LogNotifier(ctx.log),
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
  return new PerCloudIdentity({}, local);
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

export function buildBackends(ctx: BuildContext): Backends {
  const { config } = ctx;
  return {
    ticketing: pick(ticketingKinds, config.ticketing, ctx),
    stores: pick(storeKinds, config.store, ctx),
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
