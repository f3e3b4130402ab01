import type { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient, type BlobDownloadResponseParsed, type StoragePipelineOptions } from '@azure/storage-blob';
import { ConfigError, SourceError } from '../../domain/errors';
import type { LendRequest, LentCredential, PortableSource, SourceRecipe } from '../../ports/portableSource';
import type { ByteRange, ContainerInfo, ListOptions, ListPage, ObjectInfo } from '../../ports/storageSource';
import { azureError, describeAzure, redactSas } from './azureErrors';
import { checkRange } from './rangeGuard';
import { emptyStream, relayStream } from './relayStream';
import { sourceCancelled, sourceChanged } from './sourceErrors';

/**
 * How to reach the account: exactly one of a connection string, an account URL with an Entra ID
 * token credential (the signed-in user's), or an account URL with a SAS. `sas` is the token
 * (with or without its leading '?'), or `true` when `accountUrl` already carries it in its query.
 */
export type AzureBlobSourceOptions =
  | { connectionString: string }
  | { accountUrl: string; credential: TokenCredential }
  | { accountUrl: string; sas: string | true };

const DEFAULT_PAGE_SIZE = 100;

/**
 * Azure Blob Storage as a read-only storage source: containers, blobs listed by '/' hierarchy,
 * Content-MD5 surfaced as a checksum, ranged downloads pinned with `If-Match: <ETag>` (a changed
 * blob answers 412 ConditionNotMet → SOURCE_CHANGED, never mixed bytes). Nothing here calls a
 * method that writes. The SDK retries nothing (maxTries 1, no download stream retries): the
 * transfer engine owns retries.
 */
export class AzureBlobSource implements PortableSource {
  readonly scheme = 'azblob';
  /** One HTTP stream seldom fills the pipe from Blob Storage; four ranged downloads usually do. */
  readonly parallelReads = 4;
  private readonly service: BlobServiceClient;

  constructor(private readonly options: AzureBlobSourceOptions) {
    this.service = serviceClient(options);
  }

  /** Only a token credential is described: a connection string or a SAS would put a secret in the recipe. */
  recipe(): SourceRecipe | undefined {
    return 'credential' in this.options ? { kind: 'azblob', accountUrl: this.options.accountUrl } : undefined;
  }

  async lend(request: LendRequest): Promise<LentCredential> {
    if (!('credential' in this.options)) throw new SourceError('UNSUPPORTED', 'This Azure Blob source has no token credential to lend.');
    const options = { ...(request.claims ? { claims: request.claims } : {}), ...(request.tenantId ? { tenantId: request.tenantId } : {}) };
    const token = await this.options.credential.getToken(request.scopes ?? [], options);
    if (!token) throw new SourceError('AUTH_FAILED', 'The Azure sign-in gave no token.', { hint: 'Sign in again with a new request.' });
    return { token: token.token, expiresOnTimestamp: token.expiresOnTimestamp, ...(token.refreshAfterTimestamp ? { refreshAfterTimestamp: token.refreshAfterTimestamp } : {}) };
  }

  async listContainers(signal?: AbortSignal): Promise<ContainerInfo[]> {
    const containers: ContainerInfo[] = [];
    try {
      for await (const c of this.service.listContainers({ abortSignal: signal })) containers.push({ name: c.name });
    } catch (e) {
      throw azureError(e, {}, signal);
    }
    return containers;
  }

  async list(container: string, options: ListOptions = {}, signal?: AbortSignal): Promise<ListPage> {
    const prefix = options.prefix ?? '';
    try {
      const pages = this.service
        .getContainerClient(container)
        .listBlobsByHierarchy('/', { prefix: prefix || undefined, abortSignal: signal })
        .byPage({
          maxPageSize: Math.min(5000, Math.max(1, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE))),
          ...(options.token ? { continuationToken: options.token } : {}),
        });
      const result = await pages.next();
      if (result.done) return { folders: [], objects: [] };
      const page = result.value;
      const folders = (page.segment.blobPrefixes ?? []).map((p) => p.name);
      const objects: ObjectInfo[] = page.segment.blobItems
        // "folder/" placeholder blobs (made by some tools) are folders, not files.
        .filter((b) => !b.name.endsWith('/'))
        .map((b) => ({
          key: b.name,
          size: b.properties.contentLength ?? 0,
          lastModified: b.properties.lastModified,
          // Listings give the ETag bare, headers quoted: one form, so a listed object reads.
          etag: quotedEtag(b.properties.etag),
          ...(b.properties.contentMD5 ? { checksums: { md5: Buffer.from(b.properties.contentMD5).toString('hex') } } : {}),
        }));
      return { folders, objects, ...(page.continuationToken ? { nextToken: page.continuationToken } : {}) };
    } catch (e) {
      throw azureError(e, { container, key: prefix }, signal);
    }
  }

  async stat(container: string, key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    const target = { container, key };
    if (key === '' || key.endsWith('/')) {
      throw new SourceError('NOT_FOUND', `${describeAzure(target)} is a folder, not a file.`, { hint: 'Pick a file inside it.' });
    }
    try {
      const props = await this.service.getContainerClient(container).getBlobClient(key).getProperties({ abortSignal: signal });
      return {
        key,
        size: props.contentLength ?? 0,
        lastModified: props.lastModified,
        etag: quotedEtag(props.etag),
        ...(props.contentMD5 ? { checksums: { md5: Buffer.from(props.contentMD5).toString('hex') } } : {}),
      };
    } catch (e) {
      throw azureError(e, target, signal);
    }
  }

  async read(container: string, object: ObjectInfo, range: ByteRange, signal?: AbortSignal): Promise<Readable> {
    const target = { container, key: object.key };
    const where = describeAzure(target);
    if (signal?.aborted) throw sourceCancelled(where);
    checkRange(where, object, range);
    if (range.end === range.start) return emptyStream();
    let response: BlobDownloadResponseParsed;
    try {
      response = await this.service
        .getContainerClient(container)
        .getBlobClient(object.key)
        .download(range.start, range.end - range.start, {
          ...(object.etag ? { conditions: { ifMatch: object.etag } } : {}),
          abortSignal: signal,
          // No silent re-downloads inside the stream: the engine retries, from the last byte it holds.
          maxRetryRequests: 0,
        });
    } catch (e) {
      const error = azureError(e, target, signal);
      throw error.code === 'NOT_FOUND' ? sourceChanged(where, 'it is gone') : error;
    }
    const body = response.readableStreamBody as (Readable & AsyncIterable<Buffer>) | undefined;
    const total = /\/(\d+)$/.exec(response.contentRange ?? '')?.[1];
    const how =
      object.etag && response.etag && quotedEtag(response.etag) !== quotedEtag(object.etag)
        ? `its ETag is now ${response.etag}`
        : total !== undefined && Number(total) !== object.size
          ? `it now has ${total} bytes`
          : undefined;
    if (how || !body) {
      body?.destroy();
      throw how ? sourceChanged(where, how) : new SourceError('SERVER_ERROR', `Azure sent no body for ${where}.`, { hint: 'The transfer retries.' });
    }
    return relayStream(body, (e) => azureError(e, target, signal), { where, signal });
  }
}

function serviceClient(options: AzureBlobSourceOptions): BlobServiceClient {
  const given = ['connectionString', 'credential', 'sas'].filter((k) => (options as Record<string, unknown>)[k] !== undefined);
  const hasUrl = (options as { accountUrl?: unknown }).accountUrl !== undefined;
  if (given.length !== 1 || (given[0] === 'connectionString') === hasUrl) {
    throw new ConfigError(
      'The Azure Blob source needs exactly one way in: a connection string, an account URL with a credential, or an account URL with a SAS.',
      'Set only one of AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL (with a SAS query, or signed in).',
    );
  }
  const pipeline: StoragePipelineOptions = {
    // One try per call: the transfer engine owns retries (backoff, resume, audit of each attempt).
    retryOptions: { maxTries: 1 },
    keepAliveOptions: { enable: true },
  };
  if ('connectionString' in options) {
    try {
      return BlobServiceClient.fromConnectionString(options.connectionString, pipeline);
    } catch {
      // The SDK's message may quote the string, key and all: say what is wrong without it.
      throw new ConfigError('The Azure Storage connection string is not valid.', 'Copy it again from the storage account’s Access keys page.');
    }
  }
  const url = parseAccountUrl(options.accountUrl);
  if ('credential' in options) return new BlobServiceClient(url.toString(), options.credential, pipeline);
  if (options.sas !== true) url.search = options.sas.startsWith('?') ? options.sas : `?${options.sas}`;
  if (!url.searchParams.has('sig')) {
    throw new ConfigError(
      `The Azure account URL ${url.origin}${url.pathname} carries no SAS signature.`,
      'Append the SAS token (sv=…&sig=…) to the account URL, or sign in instead.',
    );
  }
  return new BlobServiceClient(url.toString(), undefined, pipeline);
}

function parseAccountUrl(accountUrl: string): URL {
  try {
    const url = new URL(accountUrl);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // fall through
  }
  throw new ConfigError(
    `The Azure account URL "${redactSas(accountUrl.split('?')[0] ?? '')}" is not an http(s) URL.`,
    'Use https://<account>.blob.core.windows.net/.',
  );
}

/** An ETag in its header form, quoted ("0x8DC…"), whichever form the service returned. */
function quotedEtag(etag: string | undefined): string | undefined {
  if (!etag) return etag;
  return etag.startsWith('"') || etag.startsWith('W/"') ? etag : `"${etag}"`;
}
