import type { CosmosClientOptions } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import { DEFAULT_CHAIN } from '../../domain/auditChain';
import { StoreError } from '../../domain/errors';
import type { AuditLog, AuditReader } from '../../ports/auditLog';
import type { DocumentStore } from '../../ports/documentStore';
import type { HostKeyStore } from '../../ports/hostKeyStore';
import type { RequestRepository } from '../../ports/requestRepository';
import { CosmosAudit } from './cosmosAudit';
import { CosmosConnection } from './cosmosConnection';
import { DEFAULT_COSMOS_DATABASE, isValidChainName } from './cosmosContainers';
import { CosmosDocuments } from './cosmosDocuments';
import { CosmosHostKeys } from './cosmosHostKeys';
import { CosmosRequestRepository } from './cosmosRequestRepository';

export interface CosmosStoresOptions {
  /** The account endpoint, https://<account>.documents.azure.com:443/ (COSMOS_ENDPOINT). */
  endpoint: string;
  /**
   * An account key (what COSMOS_KEY_REF names, resolved by the SecretStore), or a function that
   * resolves it on first use. Left out: Entra ID (`credential`, default DefaultAzureCredential),
   * which needs the Cosmos DB Built-in Data Contributor role on the account.
   */
  key?: string | (() => Promise<string>);
  credential?: TokenCredential;
  /** The database (COSMOS_DATABASE). Default `fileferry`. */
  database?: string;
  /** The audit chain appended to and read. Default DEFAULT_CHAIN. */
  chain?: string;
  /** The audit HMAC key (from FILEFERRY_AUDIT_KEY_REF): every record is signed with it. */
  auditKey?: Buffer;
  /** Merged over FileFerry's SDK defaults (see cosmosConnection.ts); tests pass an https.Agent trusting their CA. */
  clientOptions?: Partial<CosmosClientOptions>;
}

export interface CosmosStores {
  requests: RequestRepository;
  hostKeys: HostKeyStore;
  audit: AuditLog & AuditReader;
  /** Versioned JSON documents in the container `documents`. */
  documents: DocumentStore;
  /** Disposes of the one client the four share (idempotent); later calls on them throw StoreError INTERNAL. */
  close(): Promise<void>;
}

/**
 * The request repository, host key store, audit log and document store over one Cosmos DB client
 * (FILEFERRY_STORE=cosmos), in the database and containers of cosmosContainers.ts, which
 * infra/cosmos.bicep creates. Nothing is contacted here: the client is made, and each container
 * checked, on first use, where a missing database or container fails with StoreError
 * INVALID_CONFIG naming it. Any number of processes may share the containers: audit appends
 * link by a conditional create on the record's id (see cosmosAudit.ts). Throws StoreError
 * INVALID_CONFIG at once for an endpoint that is not https or a chain name unfit for an id.
 */
export function openCosmosStores(options: CosmosStoresOptions): CosmosStores {
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch {
    throw new StoreError('INVALID_CONFIG', `COSMOS_ENDPOINT=${JSON.stringify(options.endpoint)} is not a URL.`, { hint: 'Set it to the account endpoint, https://<account>.documents.azure.com:443/.' });
  }
  if (url.protocol !== 'https:') {
    throw new StoreError('INVALID_CONFIG', `COSMOS_ENDPOINT=${options.endpoint} is not https.`, { hint: 'Cosmos DB is reached over TLS: use https://<account>.documents.azure.com:443/.' });
  }
  const chain = options.chain ?? DEFAULT_CHAIN;
  if (!isValidChainName(chain)) {
    throw new StoreError('INVALID_CONFIG', `The audit chain name ${JSON.stringify(chain)} cannot be part of a Cosmos DB item id.`, { hint: 'Use letters, digits, dot, dash and underscore (up to 100).' });
  }
  const cosmos = new CosmosConnection({
    endpoint: options.endpoint,
    key: options.key,
    credential: options.credential,
    database: options.database ?? DEFAULT_COSMOS_DATABASE,
    clientOptions: options.clientOptions,
  });
  return {
    requests: new CosmosRequestRepository(cosmos),
    hostKeys: new CosmosHostKeys(cosmos),
    audit: new CosmosAudit(cosmos, { chain, key: options.auditKey }),
    documents: new CosmosDocuments(cosmos),
    close: () => cosmos.close(),
  };
}
