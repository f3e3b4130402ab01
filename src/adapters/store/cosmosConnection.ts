import type { Container, CosmosClient, CosmosClientOptions } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import { StoreError, isFerryError } from '../../domain/errors';
import { cosmosError, cosmosMissing, cosmosStatus, type CosmosTarget } from './cosmosErrors';

export interface CosmosConnectionOptions {
  /** The account endpoint, https://<account>.documents.azure.com:443/ (COSMOS_ENDPOINT). */
  endpoint: string;
  /**
   * An account key (COSMOS_KEY_REF resolved by the SecretStore), or a function that resolves it
   * on first use. Left out: Entra ID with `credential`.
   */
  key?: string | (() => Promise<string>);
  /** Entra ID credential when there is no key. Default: DefaultAzureCredential (managed identity, AZURE_* variables, az login). */
  credential?: TokenCredential;
  database: string;
  /** Merged over FileFerry's defaults (connectionPolicy field by field): tests hand in an https.Agent that trusts their CA. */
  clientOptions?: Partial<CosmosClientOptions>;
}

/**
 * FileFerry's defaults for the SDK. The SDK retries nothing FileFerry would decide on: no
 * throttling retries (a 429 comes back at once as THROTTLED, its retry-after in the message) and
 * no endpoint discovery (the account infra/cosmos.bicep creates is single-region; discovery
 * would retry a dead endpoint 120 times, a second apart). The SDK still re-sends a read or query
 * whose connection was reset (its DefaultRetryPolicy, not configurable); writes are sent once.
 */
const DEFAULT_CONNECTION_POLICY: NonNullable<CosmosClientOptions['connectionPolicy']> = {
  enableEndpointDiscovery: false,
  retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 },
  requestTimeout: 30_000,
};

/**
 * One CosmosClient for the three stores, made on first use (so the key can be resolved then), and
 * each container checked to exist the first time a store needs it: a missing database or
 * container is INVALID_CONFIG naming which, at the first call rather than as a 404 on some write.
 * A failed check is not remembered, so a store works once the infrastructure is deployed.
 */
export class CosmosConnection {
  private client?: Promise<CosmosClient>;
  private readonly containers = new Map<string, Promise<Container>>();
  private closed = false;

  constructor(private readonly options: CosmosConnectionOptions) {}

  get database(): string {
    return this.options.database;
  }

  /** What a message says about one call on `container`. */
  target(container: string, operation: string): CosmosTarget {
    return { operation, endpoint: this.options.endpoint, database: this.options.database, container };
  }

  /** The container, checked to exist (once per connection). Throws StoreError. */
  container(name: string, operation: string): Promise<Container> {
    if (this.closed) return Promise.reject(new StoreError('INTERNAL', `The Cosmos DB stores were closed before ${operation}.`, { hint: 'This is a bug in FileFerry: a store was used after shutdown.', retryable: false }));
    let checked = this.containers.get(name);
    if (!checked) {
      checked = this.check(name, operation);
      this.containers.set(name, checked);
      checked.catch(() => this.containers.delete(name));
    }
    return checked;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.containers.clear();
    if (client) (await client.catch(() => undefined))?.dispose();
  }

  private async check(name: string, operation: string): Promise<Container> {
    const target = this.target(name, operation);
    const client = await this.cosmos(target);
    const database = client.database(this.options.database);
    const container = database.container(name);
    try {
      await container.read();
      return container;
    } catch (e) {
      if (cosmosStatus(e) !== 404) throw cosmosError(e, target);
    }
    try {
      await database.read();
    } catch (e) {
      throw cosmosStatus(e) === 404 ? cosmosMissing('database', target) : cosmosError(e, target);
    }
    throw cosmosMissing('container', target);
  }

  private cosmos(target: CosmosTarget): Promise<CosmosClient> {
    this.client ??= this.makeClient().catch((e) => {
      this.client = undefined;
      // A key reference that does not resolve keeps its own SecretsError.
      throw isFerryError(e) ? e : cosmosError(e, target);
    });
    return this.client;
  }

  private async makeClient(): Promise<CosmosClient> {
    const { CosmosClient } = require('@azure/cosmos') as typeof import('@azure/cosmos');
    const { key, credential, endpoint, clientOptions = {} } = this.options;
    const resolvedKey = typeof key === 'function' ? await key() : key;
    const auth = resolvedKey
      ? { key: resolvedKey }
      : { aadCredentials: credential ?? new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential() };
    return new CosmosClient({
      endpoint,
      userAgentSuffix: 'FileFerry',
      ...auth,
      ...clientOptions,
      connectionPolicy: { ...DEFAULT_CONNECTION_POLICY, ...clientOptions.connectionPolicy },
    });
  }
}
